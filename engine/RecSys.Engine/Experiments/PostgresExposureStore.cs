using Npgsql;
using NpgsqlTypes;
using RecSys.Engine.Data;

namespace RecSys.Engine.Experiments;

/// <summary>
/// Exposures in the database (<see cref="PostgresExperimentTables.Exposures"/>), each batch one binary
/// COPY (one transaction: a failed batch leaves nothing, and retrying it stores it once). Synchronous:
/// the exposure writer's thread calls it.
/// </summary>
public sealed class PostgresExposureStore(NpgsqlDataSource database) : IExposureStore
{
    public string Description => $"postgres {PostgresExperimentTables.Exposures}";

    public void Append(IReadOnlyList<Exposure> batch)
    {
        if (batch.Count == 0) return;
        using var connection = database.OpenConnection();
        using var writer = connection.BeginBinaryImport(
            $"COPY {PostgresExperimentTables.Exposures} (recommendation_id, experiment, arm, user_id, shown_at, track_ids, durations_ms) FROM STDIN (FORMAT BINARY)");
        foreach (var e in batch)
        {
            writer.StartRow();
            writer.Write(e.RecommendationId, NpgsqlDbType.Uuid);
            writer.Write(e.Experiment, NpgsqlDbType.Text);
            writer.Write(e.Arm, NpgsqlDbType.Text);
            writer.Write(e.UserId, NpgsqlDbType.Bigint);
            writer.Write(e.ShownAtUtc, NpgsqlDbType.TimestampTz);
            writer.Write(e.Tracks, NpgsqlDbType.Array | NpgsqlDbType.Bigint);
            writer.Write(e.DurationsMs, NpgsqlDbType.Array | NpgsqlDbType.Integer);
        }
        writer.Complete();
    }

    public IEnumerable<Exposure> Read(string experiment)
    {
        using var connection = database.OpenConnection();
        using var cmd = new NpgsqlCommand(
            $"SELECT recommendation_id, arm, user_id, shown_at, track_ids, durations_ms FROM {PostgresExperimentTables.Exposures} WHERE experiment = $1", connection);
        cmd.Parameters.Add(new NpgsqlParameter { Value = experiment });
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            yield return new Exposure(reader.GetGuid(0), experiment, reader.GetString(1), reader.GetInt64(2),
                reader.GetFieldValue<DateTime>(3), reader.GetFieldValue<long[]>(4), reader.GetFieldValue<int[]>(5));
        }
    }

    public void Dispose()
    {
    }

    /// <summary>The plays in [<paramref name="from"/>, <paramref name="to"/>) from the mapped plays table, for attribution.</summary>
    public static IEnumerable<Events.PlayEvent> Plays(NpgsqlDataSource database, PostgresMapping mapping, DateTime from, DateTime to)
    {
        using var connection = database.OpenConnection();
        var plays = MappedInteractions.Resolve(connection, mapping.Interactions);
        using var cmd = new NpgsqlCommand(plays.PlaysBetweenSql, connection);
        cmd.Parameters.Add(new NpgsqlParameter { Value = from, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new NpgsqlParameter { Value = to, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            // A row whose id is NULL or not whole cannot be anyone's play.
            if (reader.IsDBNull(0) || reader.IsDBNull(1) || reader.IsDBNull(4)) continue;
            yield return new Events.PlayEvent(reader.GetString(5), reader.GetInt64(0), reader.GetInt64(1), Math.Clamp(reader.GetInt32(2), 0, 100), reader.GetBoolean(3), reader.GetFieldValue<DateTime>(4));
        }
    }
}
