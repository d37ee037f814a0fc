using Npgsql;

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

    /// <summary>The played-at value of an inserted play: the staging row's, else the import's transaction time.</summary>
    private static string PlayedAt(string staging) => $"COALESCE({staging}.played_at, now())";
}
