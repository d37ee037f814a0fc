using Npgsql;
using RecSys.Engine.Events;

namespace RecSys.Engine.Data;

/// <summary>
/// The plays table as <see cref="InteractionsMapping"/> maps it, checked against the catalog, and the
/// SQL RecSys runs on it. Ids of any integer type are read as int64 (cast in SQL); a numeric id with a
/// fraction reads as NULL, which the readers count and report rather than round.
/// </summary>
public sealed class MappedInteractions
{
    private const string Setting = PostgresMapping.Section + ":Interactions:";
    private readonly PostgresRelation.Column _user;
    private readonly PostgresRelation.Column _track;
    private readonly PostgresRelation.Column? _milestone;
    private readonly PostgresRelation.Column? _completed;
    private readonly PostgresRelation.Column? _playedAt;
    private readonly PostgresRelation.Column? _weight;
    private readonly PostgresRelation.Column? _eventId;
    private readonly string _eventIdSetting;

    private readonly PostgresRelation _relation;

    private MappedInteractions(PostgresRelation relation, InteractionsMapping m)
    {
        _relation = relation;
        Table = relation.SqlName;
        _user = relation.Map(m.User, Setting + "User", ColumnKind.Id, optional: false)!;
        _track = relation.Map(m.Track, Setting + "Track", ColumnKind.Id, optional: false)!;
        _milestone = relation.Map(m.Milestone, Setting + "Milestone", ColumnKind.Number, optional: true);
        _completed = relation.Map(m.Completed, Setting + "Completed", ColumnKind.Boolean, optional: true);
        _playedAt = relation.Map(m.PlayedAt, Setting + "PlayedAt", ColumnKind.Time, optional: true);
        bool defaultWeightAbsent = m.Weight == InteractionsMapping.DefaultWeight && !relation.Has(m.Weight);
        _weight = defaultWeightAbsent ? null : relation.Map(m.Weight, Setting + "Weight", ColumnKind.Number, optional: true);
        bool defaultEventIdAbsent = m.EventId == InteractionsMapping.DefaultEventId && !relation.Has(m.EventId);
        _eventIdSetting = $"{Setting}EventId = '{m.EventId}'";
        _eventId = defaultEventIdAbsent ? null : relation.Map(m.EventId, Setting + "EventId", ColumnKind.Text, optional: true);
        if (_milestone is null && _completed is null)
        {
            throw new SchemaMappingException(
                $"{Setting}Milestone and {Setting}Completed are both empty: a play qualifies by one of them (milestone >= {Qualification.MinMilestone} or completed)");
        }
    }

    /// <summary>Checks <paramref name="mapping"/> against the database; throws <see cref="SchemaMappingException"/> naming what does not fit.</summary>
    public static MappedInteractions Resolve(NpgsqlConnection connection, InteractionsMapping mapping) =>
        new(PostgresRelation.Find(connection, mapping.Table, Setting + "Table"), mapping);

    /// <summary>The table's SQL name (quoted and schema-qualified where needed).</summary>
    public string Table { get; }

    /// <summary>The table's object id (for catalog look-ups without its name in the SQL).</summary>
    public uint Oid => _relation.Oid;

    /// <summary>Whether plays can be written here (a table, not a view).</summary>
    public bool IsTable => _relation.IsTable;

    public bool HasWeight => _weight is not null;

    /// <summary>Whether the weight column holds only whole numbers (a fractional weight would be rounded there).</summary>
    public bool WeightIsInteger => _weight?.IsInteger ?? false;

    /// <summary>The configured user and track columns, for messages.</summary>
    public string UserColumn => $"{Table}.{_user.Sql}";
    public string TrackColumn => $"{Table}.{_track.Sql}";

    /// <summary>The original design's positive signal over the mapped columns.</summary>
    private string Qualifies => (_milestone, _completed) switch
    {
        ({ } m, { } c) => $"({m.Sql} >= {Qualification.MinMilestone} OR {c.Sql})",
        ({ } m, null) => $"{m.Sql} >= {Qualification.MinMilestone}",
        (null, { } c) => c.Sql,
        _ => throw new InvalidOperationException("unreachable: checked at resolve"),
    };

    /// <summary>A qualified row counts its weight (1 where it has none), or 1 without a weight column.</summary>
    private string Plays => _weight is { } w ? $"sum(COALESCE({w.Sql}, 1))" : "count(*)";

    /// <summary>(user, track, qualified plays) per pair; either id is NULL where the row's id is NULL or not whole.</summary>
    public string QualifiedCountsSql =>
        $"SELECT {_user.AsInt64()}, {_track.AsInt64()}, {Plays}::real FROM {Table} WHERE {Qualifies} GROUP BY 1, 2";

    /// <summary>(track, qualified plays) of the user given as parameter $1 (bigint).</summary>
    public string UserPlaysSql =>
        $"SELECT {_track.AsInt64()}, {Plays}::real FROM {Table} WHERE {_user.Sql} = $1 AND {Qualifies} GROUP BY 1";

    /// <summary>
    /// (user, track, milestone, completed, played_at, event id) of the plays in [$1, $2) (timestamptz), for
    /// attributing plays to experiments. A table without a milestone reads 100 for a completed play and 0
    /// otherwise; one without a completed flag reads completed at milestone 100. Throws
    /// <see cref="SchemaMappingException"/> when the table has no played-at column.
    /// </summary>
    public string PlaysBetweenSql
    {
        get
        {
            var playedAt = _playedAt ?? throw new SchemaMappingException(
                $"{Setting}PlayedAt is empty: attributing plays to what an experiment showed needs when each play happened");
            string milestone = _milestone is { } m
                ? $"COALESCE({m.Sql}, 0)::integer"
                : $"CASE WHEN {_completed!.Sql} THEN 100 ELSE 0 END";
            string completed = _completed is { } c ? $"COALESCE({c.Sql}, false)" : $"COALESCE({_milestone!.Sql} >= 100, false)";
            string eventId = _eventId is { } e ? $"COALESCE({e.Sql}::text, '')" : "''";
            return $"SELECT {_user.AsInt64()}, {_track.AsInt64()}, {milestone}, {completed}, ({playedAt.Sql})::timestamptz, {eventId} FROM {Table} " +
                $"WHERE {playedAt.Sql} >= $1 AND {playedAt.Sql} < $2";
        }
    }

    /// <summary>
    /// INSERT … SELECT of plays from <paramref name="staging"/> (columns user_id, track_id, milestone,
    /// is_completed, played_at, weight) into the mapped columns; assignment casts convert the types.
    /// </summary>
    public string InsertFromSql(string staging)
    {
        var target = new List<string> { _user.Sql, _track.Sql };
        var source = new List<string> { "user_id", "track_id" };
        void Add(PostgresRelation.Column? column, string from)
        {
            if (column is null) return;
            target.Add(column.Sql);
            source.Add(from);
        }
        Add(_milestone, "milestone");
        Add(_completed, "is_completed");
        Add(_playedAt, PlayedAt(staging));
        Add(_weight, "weight");
        return $"INSERT INTO {Table} ({string.Join(", ", target)}) SELECT {string.Join(", ", source)} FROM {staging}";
    }

    /// <summary>
    /// Checks that plays received as events can be written here: a table with an event id column under a
    /// unique index. Throws <see cref="SchemaMappingException"/> saying what to add.
    /// </summary>
    public void RequireEventWrites(NpgsqlConnection connection)
    {
        string fix = $"ALTER TABLE {Table} ADD COLUMN event_id text; CREATE UNIQUE INDEX ON {Table} (event_id); " +
            $"('./recsys db init' does both for its own tables; or set {Setting}EventId to an existing text column with a unique index)";
        if (!IsTable) throw new SchemaMappingException($"{Setting}Table = {Table} is a view: play events are written to a table");
        if (_eventId is null) throw new SchemaMappingException($"{Table} has no event id column ({_eventIdSetting}) to keep play events once: {fix}");
        if (_eventId.Type is not ("text" or "varchar"))
        {
            // name truncates to 63 bytes and citext ignores case, bpchar pads: two client ids could become one stored id.
            throw new SchemaMappingException($"{Table}.{_eventId.Sql} ({_eventIdSetting}) is of type {_eventId.Type}: event ids need text or varchar, which keep every id as sent");
        }
        if (!_relation.HasUniqueIndex(connection, _eventId))
        {
            throw new SchemaMappingException($"{Table}.{_eventId.Sql} ({_eventIdSetting}) has no unique index, so a retried event would be stored twice: " +
                $"CREATE UNIQUE INDEX ON {Table} ({_eventId.Sql})");
        }
    }

    /// <summary>
    /// INSERT … SELECT of events from <paramref name="staging"/> (event_id, user_id, track_id, milestone,
    /// is_completed, played_at) that skips ids already stored (the affected row count says how many it
    /// inserted; <see cref="InsertedNowSql"/> which, when not all). Where the
    /// table lacks the milestone or the completed column, the other carries the qualification, so the
    /// table qualifies the same plays the event did.
    /// </summary>
    public string InsertEventsSql(string staging)
    {
        var eventId = _eventId ?? throw new InvalidOperationException("RequireEventWrites first");
        var target = new List<string> { eventId.Sql, _user.Sql, _track.Sql };
        var source = new List<string> { "event_id", "user_id", "track_id" };
        if (_milestone is not null)
        {
            target.Add(_milestone.Sql);
            source.Add(_completed is null ? "CASE WHEN is_completed THEN 100 ELSE milestone END" : "milestone");
        }
        if (_completed is not null)
        {
            target.Add(_completed.Sql);
            source.Add(_milestone is null ? $"is_completed OR milestone >= {Qualification.MinMilestone}" : "is_completed");
        }
        if (_playedAt is not null)
        {
            target.Add(_playedAt.Sql);
            source.Add("played_at");
        }
        if (_weight is not null)
        {
            target.Add(_weight.Sql);
            source.Add("1");
        }
        return $"INSERT INTO {Table} ({string.Join(", ", target)}) SELECT {string.Join(", ", source)} FROM {staging} " +
            $"ON CONFLICT ({eventId.Sql}) DO NOTHING";
    }

    /// <summary>
    /// The ids of <paramref name="staging"/> that this transaction inserted (their rows carry its id as
    /// xmin), for the rare call where some were stored before: cheaper than RETURNING every id always.
    /// </summary>
    public string InsertedNowSql(string staging)
    {
        var eventId = _eventId ?? throw new InvalidOperationException("RequireEventWrites first");
        return $"SELECT s.event_id FROM {staging} s JOIN {Table} t ON t.{eventId.Sql} = s.event_id WHERE t.xmin = pg_current_xact_id()::xid";
    }

    /// <summary>The played-at value of an inserted play: the staging row's, else the import's transaction time.</summary>
    private static string PlayedAt(string staging) => $"COALESCE({staging}.played_at, now())";
}
