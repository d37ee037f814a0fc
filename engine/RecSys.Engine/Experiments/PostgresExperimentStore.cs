using Npgsql;
using NpgsqlTypes;
using RecSys.Engine.Data;

namespace RecSys.Engine.Experiments;

/// <summary>Experiment definitions in the database, one row per version (<see cref="PostgresExperimentTables"/>). Synchronous: called off the request threads.</summary>
public sealed class PostgresExperimentStore(NpgsqlDataSource database) : IExperimentStore
{
    public string Description => $"postgres {PostgresExperimentTables.Definitions}";

    public IReadOnlyList<ExperimentDefinition> Latest() =>
        Query($"SELECT DISTINCT ON (id) version, definition::text FROM {PostgresExperimentTables.Definitions} ORDER BY id, version DESC", null);

    public IReadOnlyList<ExperimentDefinition> History(string id) =>
        Query($"SELECT version, definition::text FROM {PostgresExperimentTables.Definitions} WHERE id = $1 ORDER BY version", id);

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

    private List<ExperimentDefinition> Query(string sql, string? id)
    {
        using var connection = database.OpenConnection();
        using var cmd = new NpgsqlCommand(sql, connection);
        if (id is not null) cmd.Parameters.Add(new NpgsqlParameter { Value = id });
        using var reader = cmd.ExecuteReader();
        var definitions = new List<ExperimentDefinition>();
        while (reader.Read())
        {
            int version = reader.GetInt32(0);
            try
            {
                definitions.Add(ExperimentJson.Parse(reader.GetString(1)) with { Version = version });
            }
            catch (FormatException e)
            {
                throw new InvalidDataException($"{PostgresExperimentTables.Definitions} version {version}: {e.Message}");
            }
        }
        return definitions;
    }
}
