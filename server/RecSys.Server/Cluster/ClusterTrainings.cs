using Npgsql;

namespace RecSys.Server.Cluster;

/// <summary>One training run as <c>recsys_trainings</c> records it: which node ran it, when, and how it ended.</summary>
public sealed record TrainingRecord(string Node, string Trigger, DateTime StartedUtc, DateTime FinishedUtc, bool Ok, string? Version, bool Promoted, string Message);

/// <summary>
/// Exactly one trainer among the replicas: a session-level advisory lock on a connection of its own,
/// held for the whole run, so a node that dies (its session ends) releases it. Every run is a row of
/// <c>recsys_trainings</c> naming its node; a scheduled run also names its occurrence, which is unique,
/// so the 03:00 run happens once even when a replica's clock fires after another node already finished it.
/// </summary>
public sealed class ClusterTrainings(NpgsqlDataSource db, string connectionString, string node)
{
    public string Node => node;

    /// <summary>The node's turn to train (<see cref="Lease"/>), or why not (another node is training, or did this occurrence).</summary>
    public readonly record struct Turn(Lease? Lease, string? Refusal);

    /// <param name="decline">Asked once the lock is held: a reason not to run after all (the model a start-up wanted was promoted meanwhile), or null.</param>
    public async Task<Turn> TryBeginAsync(string trigger, DateTime? scheduledFor, Func<string?> decline, CancellationToken cancellationToken)
    {
        // Not pooled: a session-level lock must end with this connection, not live on in the pool.
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, TcpKeepAlive = true }.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using (var tryLock = new NpgsqlCommand("SELECT pg_try_advisory_lock($1)", connection))
            {
                tryLock.Parameters.Add(new NpgsqlParameter { Value = ClusterSchema.TrainerLockKey });
                if (!(bool)(await tryLock.ExecuteScalarAsync(cancellationToken))!)
                {
                    string who = await RunningNodeAsync(connection, cancellationToken) ?? "another node";
                    await connection.DisposeAsync();
                    return new Turn(null, $"{who} is training; this node loads the result when it is promoted");
                }
            }
            if (decline() is { } reason)
            {
                await connection.DisposeAsync();
                return new Turn(null, reason);
            }
            // Holding the lock: a row still open belongs to a node that died mid-run.
            await using (var close = new NpgsqlCommand(
                "UPDATE recsys_trainings SET finished_at = now(), ok = false, message = 'the node stopped before the run finished' WHERE finished_at IS NULL", connection))
            {
                await close.ExecuteNonQueryAsync(cancellationToken);
            }
            await using var insert = new NpgsqlCommand(
                "INSERT INTO recsys_trainings (node, trigger, scheduled_for) VALUES ($1, $2, $3) ON CONFLICT (scheduled_for) DO NOTHING RETURNING id", connection);
            insert.Parameters.Add(new NpgsqlParameter { Value = node });
            insert.Parameters.Add(new NpgsqlParameter { Value = trigger });
            insert.Parameters.Add(new NpgsqlParameter { Value = scheduledFor is { } at ? DateTime.SpecifyKind(at, DateTimeKind.Utc) : DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
            if (await insert.ExecuteScalarAsync(cancellationToken) is not long id)
            {
                string by = await OccurrenceNodeAsync(connection, scheduledFor!.Value, cancellationToken) ?? "another node";
                await connection.DisposeAsync();
                return new Turn(null, $"the run scheduled for {scheduledFor:u} was already done by {by}");
            }
            return new Turn(new Lease(connection, id), null);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async Task<string?> RunningNodeAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var select = new NpgsqlCommand("SELECT node FROM recsys_trainings WHERE finished_at IS NULL ORDER BY id DESC LIMIT 1", connection);
        return await select.ExecuteScalarAsync(cancellationToken) as string;
    }

    private static async Task<string?> OccurrenceNodeAsync(NpgsqlConnection connection, DateTime scheduledFor, CancellationToken cancellationToken)
    {
        await using var select = new NpgsqlCommand("SELECT node FROM recsys_trainings WHERE scheduled_for = $1", connection);
        select.Parameters.Add(new NpgsqlParameter { Value = DateTime.SpecifyKind(scheduledFor, DateTimeKind.Utc), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        return await select.ExecuteScalarAsync(cancellationToken) as string;
    }

    /// <summary>The newest finished run of any node (or the newest failed one), for /model; null when there is none.</summary>
    public async Task<TrainingRecord?> LastAsync(bool failedOnly, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var select = new NpgsqlCommand(
            $"SELECT node, trigger, started_at, finished_at, ok, version, promoted, message FROM recsys_trainings WHERE finished_at IS NOT NULL{(failedOnly ? " AND NOT ok" : "")} ORDER BY finished_at DESC, id DESC LIMIT 1",
            connection);
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return null;
        return new TrainingRecord(reader.GetString(0), reader.GetString(1), reader.GetDateTime(2), reader.GetDateTime(3), reader.GetBoolean(4),
            reader.IsDBNull(5) ? null : reader.GetString(5), !reader.IsDBNull(6) && reader.GetBoolean(6), reader.IsDBNull(7) ? "" : reader.GetString(7));
    }

    /// <summary>This node's run: the lock's connection and its row; disposing releases the lock.</summary>
    public sealed class Lease(NpgsqlConnection connection, long id) : IAsyncDisposable
    {
        public async Task FinishAsync(bool ok, string? version, bool promoted, string message)
        {
            await using var update = new NpgsqlCommand(
                "UPDATE recsys_trainings SET finished_at = now(), ok = $2, version = $3, promoted = $4, message = $5 WHERE id = $1", connection);
            update.Parameters.Add(new NpgsqlParameter { Value = id });
            update.Parameters.Add(new NpgsqlParameter { Value = ok });
            update.Parameters.Add(new NpgsqlParameter { Value = (object?)version ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            update.Parameters.Add(new NpgsqlParameter { Value = promoted });
            update.Parameters.Add(new NpgsqlParameter { Value = message });
            await update.ExecuteNonQueryAsync();
        }

        /// <summary>Closing the session releases the advisory lock (an explicit unlock would need the session anyway).</summary>
        public ValueTask DisposeAsync() => connection.DisposeAsync();
    }
}
