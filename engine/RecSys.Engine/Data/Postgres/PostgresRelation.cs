using Npgsql;

namespace RecSys.Engine.Data;

/// <summary>
/// A table, view or materialized view found through the catalog (<c>to_regclass</c>, <c>pg_attribute</c>,
/// which unlike <c>information_schema.columns</c> also lists a materialized view's columns), with its
/// columns and their base types, so a mapping is checked before any query runs.
/// </summary>
internal sealed class PostgresRelation
{
    private readonly Dictionary<string, Column> _columns;

    /// <summary>A column: its exact name and its type (the base type of a domain; numeric's scale, -1 unconstrained).</summary>
    internal sealed record Column(string Name, string Type, int Scale)
    {
        public string Sql => PostgresRelation.Quote(Name);

        /// <summary>Whether the type holds only whole numbers.</summary>
        public bool IsInteger => Type is "int2" or "int4" or "int8" || (Type == "numeric" && Scale == 0);

        /// <summary>
        /// The column as int64 for SQL (<paramref name="alias"/>-qualified): an integer cast, or for a
        /// numeric that may hold a fraction NULL where it does, so the reader reports the row instead of
        /// rounding it to another id.
        /// </summary>
        public string AsInt64(string? alias = null)
        {
            string c = alias is null ? Sql : $"{alias}.{Sql}";
            return Type == "numeric" && Scale != 0 ? $"CASE WHEN {c} = trunc({c}) THEN {c}::bigint END" : $"{c}::bigint";
        }
    }

    private PostgresRelation(uint oid, string sqlName, char kind, List<Column> columns)
    {
        Oid = oid;
        SqlName = sqlName;
        Kind = kind;
        ColumnsInOrder = columns;
        _columns = columns.ToDictionary(c => c.Name, StringComparer.Ordinal);
    }

    public uint Oid { get; }

    /// <summary>The name as PostgreSQL prints it (quoted and schema-qualified where needed), ready for SQL.</summary>
    public string SqlName { get; }

    /// <summary>pg_class.relkind: r table, p partitioned table, v view, m materialized view, f foreign table.</summary>
    public char Kind { get; }

    public IReadOnlyList<Column> ColumnsInOrder { get; }

    /// <summary>Finds the relation <paramref name="name"/> names, or throws naming <paramref name="setting"/>.</summary>
    public static PostgresRelation Find(NpgsqlConnection connection, string name, string setting)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new SchemaMappingException($"{setting} is empty: it must name a table or view");
        uint oid;
        string sqlName;
        char kind;
        try
        {
            using var cmd = new NpgsqlCommand(
                "SELECT c.oid, c.oid::regclass::text, c.relkind::text FROM pg_class c WHERE c.oid = to_regclass($1)", connection);
            cmd.Parameters.AddWithValue(name);
            using var reader = cmd.ExecuteReader();
            if (!reader.Read())
            {
                throw new SchemaMappingException(
                    $"{setting} = '{name}': the database has no table, view or materialized view of that name " +
                    $"(database {connection.Database}; unqualified names are looked up in the search_path, 'schema.table' qualifies one; " +
                    "'./recsys db init' creates RecSys's own tables, docs/database.md maps yours)");
            }
            (oid, sqlName, kind) = (reader.GetFieldValue<uint>(0), reader.GetString(1), reader.GetString(2)[0]);
            if (kind is not ('r' or 'p' or 'v' or 'm' or 'f'))
            {
                throw new SchemaMappingException($"{setting} = '{name}': {sqlName} is not a table, view or materialized view (pg_class.relkind '{kind}')");
            }
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.InvalidName or PostgresErrorCodes.SyntaxError or PostgresErrorCodes.InvalidSchemaName)
        {
            throw new SchemaMappingException($"{setting} = '{name}' is not a table name: {e.MessageText}");
        }
        var columns = new List<Column>();
        using (var cmd = new NpgsqlCommand("""
            SELECT a.attname, b.typname, a.atttypmod
            FROM pg_attribute a
            JOIN pg_type t ON t.oid = a.atttypid
            JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
            WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum
            """, connection))
        {
            cmd.Parameters.AddWithValue(NpgsqlTypes.NpgsqlDbType.Oid, oid);
            using var reader = cmd.ExecuteReader();
            while (reader.Read())
            {
                string type = reader.GetString(1);
                int typmod = reader.GetInt32(2);
                columns.Add(new Column(reader.GetString(0), type, type == "numeric" && typmod >= 4 ? (typmod - 4) & 0xFFFF : -1));
            }
        }
        return new PostgresRelation(oid, sqlName, kind, columns);
    }

    /// <summary>
    /// The column <paramref name="name"/> names (exactly, else the one column equal ignoring case, as an
    /// unquoted SQL name would fold), or null for an empty name when <paramref name="optional"/>.
    /// Throws naming <paramref name="setting"/> when it is missing or its type is not one of <paramref name="kind"/>'s.
    /// </summary>
    public Column? Map(string? name, string setting, ColumnKind kind, bool optional)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            if (optional) return null;
            throw new SchemaMappingException($"{setting} is empty: {SqlName} needs this column");
        }
        if (!_columns.TryGetValue(name, out var column))
        {
            var folded = ColumnsInOrder.Where(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase)).ToList();
            if (folded.Count != 1)
            {
                string hint = optional ? $"; set {setting} to its column, or to '' if there is none" : $"; set {setting} to its column";
                throw new SchemaMappingException(
                    $"{setting} = '{name}': {SqlName} has no column \"{name}\" (its columns: {string.Join(", ", ColumnsInOrder.Select(c => c.Name))}){hint}");
            }
            column = folded[0];
        }
        if (!Fits(column, kind))
        {
            throw new SchemaMappingException(
                $"{setting} = '{name}': column {SqlName}.{column.Sql} is of type {column.Type}{(column.Scale > 0 ? $"(scale {column.Scale})" : "")}, " +
                $"but {Describe(kind)}");
        }
        return column;
    }

    /// <summary>Whether the relation has this column (matched as <see cref="Map"/> matches).</summary>
    public bool Has(string name) =>
        _columns.ContainsKey(name) || ColumnsInOrder.Count(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase)) == 1;

    /// <summary>Whether a unique index (not partial, not on an expression) has exactly this column as its key, as ON CONFLICT (column) needs.</summary>
    public bool HasUniqueIndex(NpgsqlConnection connection, Column column)
    {
        using var cmd = new NpgsqlCommand("""
            SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                           WHERE i.indrelid = $1 AND i.indisunique AND i.indnkeyatts = 1 AND i.indpred IS NULL AND i.indexprs IS NULL
                             AND a.attname = $2)
            """, connection);
        cmd.Parameters.AddWithValue(NpgsqlTypes.NpgsqlDbType.Oid, Oid);
        cmd.Parameters.AddWithValue(column.Name);
        return (bool)cmd.ExecuteScalar()!;
    }

    /// <summary>Whether rows can be written (a table; views and the rest are read only here).</summary>
    public bool IsTable => Kind is 'r' or 'p';

    private static bool Fits(Column c, ColumnKind kind) => kind switch
    {
        ColumnKind.Id => c.Type is "int2" or "int4" or "int8" || (c.Type == "numeric" && c.Scale <= 0),
        ColumnKind.Number => c.Type is "int2" or "int4" or "int8" or "numeric" or "float4" or "float8",
        ColumnKind.Boolean => c.Type == "bool",
        ColumnKind.Time => c.Type is "timestamptz" or "timestamp" or "date",
        ColumnKind.Text => c.Type is "text" or "varchar" or "bpchar" or "name" or "citext",
        _ => false,
    };

    private static string Describe(ColumnKind kind) => kind switch
    {
        ColumnKind.Id => "ids must be an integer type (smallint, integer, bigint, or numeric without a fraction)",
        ColumnKind.Number => "it must be a number type",
        ColumnKind.Boolean => "it must be boolean",
        ColumnKind.Time => "it must be a timestamp, timestamptz or date",
        _ => "it must be a text type",
    };

    /// <summary>An identifier quoted for SQL.</summary>
    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}

/// <summary>What a mapped column must hold.</summary>
internal enum ColumnKind
{
    Id,
    Number,
    Boolean,
    Time,
    Text,
}
