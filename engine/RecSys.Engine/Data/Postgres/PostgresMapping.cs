namespace RecSys.Engine.Data;

/// <summary>
/// Where RecSys finds its tables in a database: table and column names, bound from the
/// <c>RecSys:Db:*</c> settings. The defaults are the names <c>db init</c> creates. A column setting
/// may be empty where the table has no such column (see docs/database.md for which may).
/// </summary>
public sealed class PostgresMapping
{
    public const string Section = "RecSys:Db";

    public InteractionsMapping Interactions { get; set; } = new();
    public TracksMapping Tracks { get; set; } = new();
    public ArtistsMapping Artists { get; set; } = new();

    /// <summary>True when every name is <c>db init</c>'s own.</summary>
    public bool IsDefault =>
        Interactions == new InteractionsMapping() && Tracks == new TracksMapping() && Artists == new ArtistsMapping();
}

/// <summary>The plays table: one row per play (or per imported interaction).</summary>
public sealed record InteractionsMapping
{
    public string Table { get; set; } = "interactions";
    public string User { get; set; } = "user_id";
    public string Track { get; set; } = "track_id";

    /// <summary>How far the play got, 0..100; a play qualifies at 75. Empty: no such column.</summary>
    public string Milestone { get; set; } = "milestone";

    /// <summary>Whether the play completed; qualifies a play by itself. Empty: no such column.</summary>
    public string Completed { get; set; } = "is_completed";

    /// <summary>When the play happened (written by <c>db import</c>). Empty: no such column.</summary>
    public string PlayedAt { get; set; } = "created_at";

    /// <summary>
    /// A row's weight (imported files carry one): a qualified row counts this much instead of 1. The
    /// default name is used only when the table has that column; empty: never.
    /// </summary>
    public string Weight { get; set; } = DefaultWeight;

    internal const string DefaultWeight = "weight";

    /// <summary>
    /// The client's id of a play received over POST /events/plays: a text column with a unique index,
    /// so a retried event is stored once. Needed only to receive events; the default name is used only
    /// when the table has that column.
    /// </summary>
    public string EventId { get; set; } = DefaultEventId;

    internal const string DefaultEventId = "event_id";
}

/// <summary>Track metadata. Empty <see cref="Table"/>: the database has none.</summary>
public sealed record TracksMapping
{
    public string Table { get; set; } = "tracks";
    public string Id { get; set; } = "track_id";
    public string Title { get; set; } = "title";
    public string ArtistId { get; set; } = "artist_id";
    public string AlbumId { get; set; } = "album_id";
    public string DurationMs { get; set; } = "duration_ms";
    public string PreviewUrl { get; set; } = "preview_url";
    public string CoverUrl { get; set; } = "cover_url";
}

/// <summary>Artist names, joined to tracks on the tracks' artist id. Empty <see cref="Table"/>: none.</summary>
public sealed record ArtistsMapping
{
    public string Table { get; set; } = "artists";
    public string Id { get; set; } = "artist_id";
    public string Name { get; set; } = "name";
}
