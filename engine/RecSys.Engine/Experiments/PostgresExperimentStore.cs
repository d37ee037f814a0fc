using Npgsql;
using NpgsqlTypes;
using RecSys.Engine.Data;

namespace RecSys.Engine.Experiments;

/// <summary>Experiment definitions in the database, one row per version (<see cref="PostgresExperimentTables"/>). Synchronous: called off the request threads.</summary>
public sealed class PostgresExperimentStore(NpgsqlDataSource database) : IExperimentStore
{
    public string Description => $"postgres {PostgresExperimentTables.Definitions}";

    public IReadOnlyList<ExperimentDefinition> Latest(ICollection<string>? problems = null) =>
        Query($"SELECT DISTINCT ON (id) id, version, definition::text FROM {PostgresExperimentTables.Definitions} ORDER BY id, version DESC", null, problems);

    public IReadOnlyList<ExperimentDefinition> History(string id) =>
        Query($"SELECT id, version, definition::text FROM {PostgresExperimentTables.Definitions} WHERE id = $1 ORDER BY version", id, null);

    public ExperimentDefinition Save(ExperimentDefinition definition)
    {
        for (int attempt = 0; ; attempt++)
        {
            using var connection = database.OpenConnection();
            using var cmd = new NpgsqlCommand(
                $"INSERT INTO {PostgresExperimentTables.Definitions} (id, version, definition) " +
                $"SELECT $1, COALESCE(max(version), 0) + 1, $2 FROM {PostgresExperimentTables.Definitions} WHERE id = $1 RETURNING version", connection);
            cmd.Parameters.Add(new NpgsqlParameter { Value = definition.Id });
            cmd.Parameters.Add(new NpgsqlParameter { Value = ExperimentJson.ToJson(definition with { Version = 0 }).ToJsonString(), NpgsqlDbType = NpgsqlDbType.Jsonb });
            try
            {
                int version = (int)cmd.ExecuteScalar()!;
                return definition with { Version = version };
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation && attempt < 10)
            {
                // Another writer took the version number first: take the next.
            }
        }
    }

    /// <summary>The rows as definitions; one that does not parse goes to <paramref name="problems"/>, or without them is an error.</summary>
    private List<ExperimentDefinition> Query(string sql, string? id, ICollection<string>? problems)
    {
        using var connection = database.OpenConnection();
        using var cmd = new NpgsqlCommand(sql, connection);
        if (id is not null) cmd.Parameters.Add(new NpgsqlParameter { Value = id });
        using var reader = cmd.ExecuteReader();
        var definitions = new List<ExperimentDefinition>();
        while (reader.Read())
        {
            string name = reader.GetString(0);
            int version = reader.GetInt32(1);
            try
            {
                definitions.Add(ExperimentJson.Parse(reader.GetString(2)) with { Version = version });
            }
            catch (FormatException e)
            {
                string problem = $"{name}: {PostgresExperimentTables.Definitions} version {version}: {e.Message}";
                if (problems is null) throw new InvalidDataException(problem);
                problems.Add(problem);
            }
        }
        return definitions;
    }
}
