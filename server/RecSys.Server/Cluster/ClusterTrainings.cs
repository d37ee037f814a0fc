using Npgsql;

namespace RecSys.Server.Cluster;

/// <summary>One training run as <c>recsys_trainings</c> records it: which node ran it, when, and how it ended.</summary>
public sealed record TrainingRecord(string Node, string Trigger, DateTime StartedUtc, DateTime FinishedUtc, bool Ok, string? Version, bool Promoted, string Message);

/// <summary>
/// What a node asks for: its trigger; the schedule's occurrence (a run once among replicas); when it was
/// asked (a run any node started since then covers it); whether to wait for the lock rather than give
/// up (start-up: if the node training now dies, this one must still get a model); and a last reason
/// not to run, asked once the lock is held.
/// </summary>
public sealed record TrainingRequest(string Trigger, DateTime? ScheduledFor = null, DateTime? RequestedUtc = null, bool Wait = false, Func<string?>? Decline = null);

/// <summary>
/// Exactly one trainer among the replicas: a session-level advisory lock on a connection of its own,
/// held for the whole run, so a node whose process dies releases it (its session ends; a host that
/// vanishes is found by TCP keepalives). Every run is a row of <c>recsys_trainings</c> naming its node;
/// a scheduled run also names its occurrence, which is unique, so the 03:00 run happens once even when
/// a replica's clock fires after another node already finished it. The lock's connection string is the
/// configured one with pooling off (a data source's own string drops the password).
/// </summary>
public sealed class ClusterTrainings(NpgsqlDataSource db, string connectionString, string node, PostgresPromotionRegistry registry)
{
    public string Node => node;

    /// <summary>The node's turn to train (<see cref="Lease"/>), or why not (another node is training, or did this occurrence).</summary>
    public readonly record struct Turn(Lease? Lease, string? Refusal);

    public async Task<Turn> TryBeginAsync(TrainingRequest request, CancellationToken cancellationToken)
    {
        // The tables may not exist yet when the database was away at start-up.
        await Task.Run(registry.EnsureInitialized, cancellationToken);
        // Not pooled: a session-level lock must end with this connection, not live on in the pool.
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString)
        {
            Pooling = false, TcpKeepAlive = true, TcpKeepAliveTime = 30, TcpKeepAliveInterval = 5,
        }.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            if (!await LockAsync(connection, request.Wait, cancellationToken))
            {
                string who = await RunningNodeAsync(connection, cancellationToken) ?? "another node";
                await connection.DisposeAsync();
                return new Turn(null, $"{who} is training; this node loads the result when it is promoted");
            }
            string? reason = request.RequestedUtc is { } asked ? await CoveredAsync(connection, asked, cancellationToken) : null;
            // The caller's reason may read the registry (a blocking query): not on the thread an inline socket completion resumed.
            reason ??= request.Decline is { } decline ? await Task.Run(decline, cancellationToken) : null;
            if (reason is not null)
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
            insert.Parameters.Add(new NpgsqlParameter { Value = request.Trigger });
            insert.Parameters.Add(Timestamp(request.ScheduledFor));
            if (await insert.ExecuteScalarAsync(cancellationToken) is not long id)
            {
                string by = await OccurrenceNodeAsync(connection, request.ScheduledFor!.Value, cancellationToken) ?? "another node";
                await connection.DisposeAsync();
                return new Turn(null, $"the run scheduled for {request.ScheduledFor:u} was already done by {by}");
            }
            return new Turn(new Lease(connection, id), null);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async Task<bool> LockAsync(NpgsqlConnection connection, bool wait, CancellationToken cancellationToken)
    {
        // Waiting has no time limit: the lock comes when the run holding it ends, however long that takes.
        await using var command = new NpgsqlCommand(
            wait ? "SELECT true FROM (SELECT pg_advisory_lock($1)) AS held" : "SELECT pg_try_advisory_lock($1)", connection) { CommandTimeout = wait ? 0 : 30 };
        command.Parameters.Add(new NpgsqlParameter { Value = ClusterSchema.TrainerLockKey });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>A run some node started at or after <paramref name="askedUtc"/> answers the request already (three replicas asked at once train once).</summary>
    private static async Task<string?> CoveredAsync(NpgsqlConnection connection, DateTime askedUtc, CancellationToken cancellationToken)
    {
        await using var select = new NpgsqlCommand("SELECT node, started_at FROM recsys_trainings WHERE started_at >= $1 ORDER BY id LIMIT 1", connection);
        select.Parameters.Add(Timestamp(askedUtc));
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? $"{reader.GetString(0)} started a run at {reader.GetDateTime(1):u}, after this one was asked for" : null;
    }

    private static NpgsqlParameter Timestamp(DateTime? at) =>
        new() { Value = at is { } t ? DateTime.SpecifyKind(t, DateTimeKind.Utc) : DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz };

    private static async Task<string?> RunningNodeAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var select = new NpgsqlCommand("SELECT node FROM recsys_trainings WHERE finished_at IS NULL ORDER BY id DESC LIMIT 1", connection);
        return await select.ExecuteScalarAsync(cancellationToken) as string;
    }

    private static async Task<string?> OccurrenceNodeAsync(NpgsqlConnection connection, DateTime scheduledFor, CancellationToken cancellationToken)
    {
        await using var select = new NpgsqlCommand("SELECT node FROM recsys_trainings WHERE scheduled_for = $1", connection);
        select.Parameters.Add(Timestamp(scheduledFor));
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
        /// <summary>
        /// Null while this node still holds the lock (its session answers: a live session keeps its
        /// locks); else why not. Asked before promoting, so a node that lost the lock mid-run, while
        /// another may have taken it, does not promote over that node's run.
        /// </summary>
        public async Task<string?> LostAsync()
        {
            try
            {
                await using var ping = new NpgsqlCommand("SELECT 1", connection) { CommandTimeout = 10 };
                await ping.ExecuteScalarAsync();
                return null;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                return $"the training lock was lost during the run ({e.Message})";
            }
        }

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
