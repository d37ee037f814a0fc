using Npgsql;

namespace RecSys.Engine.Data;

/// <summary>
/// Track metadata as <see cref="TracksMapping"/> and <see cref="ArtistsMapping"/> map it, checked
/// against the catalog: one SELECT that yields <see cref="TrackInfo"/> columns with artist names
/// joined in, and the upserts <c>db import</c> writes metadata with.
/// </summary>
public sealed class MappedTracks
{
    private const string TracksSetting = PostgresMapping.Section + ":Tracks:";
    private const string ArtistsSetting = PostgresMapping.Section + ":Artists:";

    /// <summary>The staging columns of a track, in <see cref="TrackInfo"/> order (artist name apart).</summary>
    public static readonly string[] TrackFields = ["track_id", "title", "artist_id", "album_id", "duration_ms", "preview_url", "cover_url"];

    private readonly PostgresRelation? _tracks;
    private readonly PostgresRelation.Column? _id;
    private readonly (string Field, PostgresRelation.Column? Column)[] _fields = [];
    private readonly PostgresRelation? _artists;
    private readonly PostgresRelation.Column? _artistId;
    private readonly PostgresRelation.Column? _artistName;

    private MappedTracks(NpgsqlConnection connection, TracksMapping tracks, ArtistsMapping artists)
    {
        if (string.IsNullOrWhiteSpace(tracks.Table))
        {
            Description = "none (RecSys:Db:Tracks:Table is empty)";
            return;
        }
        _tracks = PostgresRelation.Find(connection, tracks.Table, TracksSetting + "Table");
        _id = _tracks.Map(tracks.Id, TracksSetting + "Id", ColumnKind.Id, optional: false)!;
        _fields =
        [
            ("title", _tracks.Map(tracks.Title, TracksSetting + "Title", ColumnKind.Text, optional: true)),
            ("artist_id", _tracks.Map(tracks.ArtistId, TracksSetting + "ArtistId", ColumnKind.Id, optional: true)),
            ("album_id", _tracks.Map(tracks.AlbumId, TracksSetting + "AlbumId", ColumnKind.Id, optional: true)),
            ("duration_ms", _tracks.Map(tracks.DurationMs, TracksSetting + "DurationMs", ColumnKind.Number, optional: true)),
            ("preview_url", _tracks.Map(tracks.PreviewUrl, TracksSetting + "PreviewUrl", ColumnKind.Text, optional: true)),
            ("cover_url", _tracks.Map(tracks.CoverUrl, TracksSetting + "CoverUrl", ColumnKind.Text, optional: true)),
        ];
        Description = _tracks.SqlName;
        if (!string.IsNullOrWhiteSpace(artists.Table))
        {
            _artists = PostgresRelation.Find(connection, artists.Table, ArtistsSetting + "Table");
            _artistId = _artists.Map(artists.Id, ArtistsSetting + "Id", ColumnKind.Id, optional: false)!;
            _artistName = _artists.Map(artists.Name, ArtistsSetting + "Name", ColumnKind.Text, optional: false)!;
            Description += $" + {_artists.SqlName}";
        }
    }

    /// <summary>Checks the mappings against the database; throws <see cref="SchemaMappingException"/> naming what does not fit.</summary>
    public static MappedTracks Resolve(NpgsqlConnection connection, TracksMapping tracks, ArtistsMapping artists) => new(connection, tracks, artists);

    /// <summary>Where the metadata comes from, in words (for /model).</summary>
    public string Description { get; }

    public bool HasTracks => _tracks is not null;
    public bool HasArtists => _artists is not null;

    /// <summary>
    /// A token that changes when the metadata tables' rows change (the statistics counters of inserted,
    /// updated and deleted rows, and the file a TRUNCATE replaces), so an unchanged catalog is not read
    /// again; null when that cannot be told (a view or foreign table: read it every time). Counters
    /// reach the statistics when the writing session commits and goes idle, within seconds.
    /// </summary>
    public string? ChangeToken(NpgsqlConnection connection)
    {
        var relations = new[] { _tracks, _artists }.OfType<PostgresRelation>().ToList();
        // Only plain tables: a partitioned table counts its rows on its partitions and has no file of its own.
        if (relations.Count == 0 || relations.Any(r => r.Kind != 'r')) return null;
        using var cmd = new NpgsqlCommand("""
            SELECT string_agg(concat_ws('/', s.relid, pg_relation_filenode(s.relid), s.n_tup_ins, s.n_tup_upd, s.n_tup_del), ';' ORDER BY s.relid)
            FROM pg_stat_all_tables s WHERE s.relid = ANY($1)
            """, connection);
        cmd.Parameters.AddWithValue(NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Oid, relations.Select(r => r.Oid).ToArray());
        return cmd.ExecuteScalar() as string;
    }

    private PostgresRelation.Column? Field(string name) => _fields.First(f => f.Field == name).Column;

    /// <summary>(id, title, artist id, artist name, album id, duration ms, preview url, cover url); null when no tracks table is mapped.</summary>
    public string? SelectSql
    {
        get
        {
            if (_tracks is null) return null;
            string Column(string name, string cast) => Field(name) is { } c ? $"t.{c.Sql}::{cast}" : $"NULL::{cast}";
            string Id(string name) => Field(name) is { } c ? c.AsInt64("t") : "NULL::bigint";
            // A duration beyond int32 milliseconds (24 days) is no track's: NULL, rather than failing the whole read.
            string duration = Field("duration_ms") is { } d
                ? $"CASE WHEN t.{d.Sql} BETWEEN 0 AND 2147483647 THEN t.{d.Sql}::integer END" : "NULL::integer";
            string artistName = "NULL::text";
            string join = "";
            if (_artists is not null && Field("artist_id") is { } artistColumn)
            {
                artistName = $"a.{_artistName!.Sql}::text";
                join = $" LEFT JOIN {_artists.SqlName} a ON a.{_artistId!.Sql} = t.{artistColumn.Sql}";
            }
            return $"SELECT {_id!.AsInt64("t")}, {Column("title", "text")}, {Id("artist_id")}, {artistName}, " +
                $"{Id("album_id")}, {duration}, {Column("preview_url", "text")}, {Column("cover_url", "text")} " +
                $"FROM {_tracks.SqlName} t{join}";
        }
    }

    /// <summary>
    /// Updates the tracks <paramref name="staging"/> (columns <see cref="TrackFields"/>) has and inserts
    /// the others, writing only <paramref name="given"/> fields (those the imported file has: a column
    /// the file lacks keeps what the table holds) that are mapped.
    /// </summary>
    public string UpsertTracksSql(string staging, IReadOnlySet<string> given)
    {
        var tracks = WritableTracks();
        var fields = _fields.Where(f => f.Column is not null && given.Contains(f.Field)).Select(f => (f.Field, Column: f.Column!)).ToList();
        return Upsert(tracks.SqlName, _id!, "track_id", fields, staging);
    }

    /// <summary>Updates the artists <paramref name="staging"/> (columns artist_id, name) has and inserts the others.</summary>
    public string UpsertArtistsSql(string staging) =>
        Upsert(WritableArtists().SqlName, _artistId!, "artist_id", [("name", _artistName!)], staging);

    /// <summary>The tracks table, checked to be one that can be written.</summary>
    internal PostgresRelation WritableTracks() => Writable(_tracks, "Tracks");

    /// <summary>The artists table, checked to be one that can be written.</summary>
    internal PostgresRelation WritableArtists() => Writable(_artists, "Artists");

    private static PostgresRelation Writable(PostgresRelation? relation, string what) =>
        relation is null ? throw new SchemaMappingException($"RecSys:Db:{what}:Table is empty: there is no table to import into")
        : relation.IsTable ? relation
        : throw new SchemaMappingException($"RecSys:Db:{what}:Table = {relation.SqlName} is a view or materialized view: db import writes tables only");

    /// <summary>UPDATE … FROM then INSERT … WHERE NOT EXISTS: works without a unique key on the id (a user's table may have none).</summary>
    private static string Upsert(string table, PostgresRelation.Column id, string stagingId, List<(string Field, PostgresRelation.Column Column)> fields, string staging)
    {
        string update = fields.Count == 0 ? "" :
            $"UPDATE {table} t SET {string.Join(", ", fields.Select(f => $"{f.Column.Sql} = s.{f.Field}"))} FROM {staging} s WHERE t.{id.Sql} = s.{stagingId};\n";
        string columns = string.Join(", ", fields.Select(f => f.Column.Sql).Prepend(id.Sql));
        string values = string.Join(", ", fields.Select(f => "s." + f.Field).Prepend("s." + stagingId));
        return update + $"INSERT INTO {table} ({columns}) SELECT {values} FROM {staging} s WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE t.{id.Sql} = s.{stagingId})";
    }
}
