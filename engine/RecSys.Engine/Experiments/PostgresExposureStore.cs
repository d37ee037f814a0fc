using Npgsql;
using NpgsqlTypes;
using RecSys.Engine.Data;

namespace RecSys.Engine.Experiments;

/// <summary>
/// Exposures in the database (<see cref="PostgresExperimentTables.Exposures"/>), each batch one binary
/// COPY (one transaction: a failed batch leaves nothing, and retrying one that did commit finds its ids stored). Synchronous:
/// the exposure writer's thread calls it.
/// </summary>
public sealed class PostgresExposureStore(NpgsqlDataSource database) : IExposureStore
{
    public string Description => $"postgres {PostgresExperimentTables.Exposures}";

    public void Append(IReadOnlyList<Exposure> batch)
    {
        if (batch.Count == 0) return;
        try
        {
            Copy(batch);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // A retry of a batch whose COPY committed before the answer was lost: the ids (UUID v7,
            // unique per answer) are all there already, the batch is stored.
        }
    }

    private void Copy(IReadOnlyList<Exposure> batch)
    {
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
}
