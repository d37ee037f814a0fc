using Npgsql;
using RecSys.Engine.Data;

namespace RecSys.Server.Hosting;

/// <summary>Recent qualified plays of a user the model does not know, for fold-in.</summary>
public interface IUserPlays
{
    Task<IReadOnlyList<(long TrackId, float Plays)>> GetAsync(long userId, CancellationToken ct);
}

/// <summary>Without a database there is nowhere to find an unknown user's plays.</summary>
public sealed class NoUserPlays : IUserPlays
{
    public Task<IReadOnlyList<(long TrackId, float Plays)>> GetAsync(long userId, CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<(long, float)>>([]);
}

/// <summary>
/// Qualified plays from the mapped plays table (same rule as training), with a one-second timeout: a
/// slow or failing database gives the popularity answer rather than a slow or failed request. The
/// query is built once from the mapping checked against the catalog (<see cref="PrepareAsync"/>, at
/// start-up; until it succeeds, lookups answer nothing and retry it in the background).
/// </summary>
public sealed class PostgresUserPlays(NpgsqlDataSource db, ServerOptions options, ILogger<PostgresUserPlays> log) : IUserPlays
{
    private volatile string? _sql;
    private int _preparing;

    /// <summary>Resolves the mapping; throws <see cref="SchemaMappingException"/> when it does not fit the database.</summary>
    public async Task PrepareAsync(CancellationToken ct)
    {
        var mapped = await new PostgresInteractionSource(options.Db!, options.DbMapping).ResolveAsync(ct);
        _sql = mapped.UserPlaysSql;
    }

    public async Task<IReadOnlyList<(long TrackId, float Plays)>> GetAsync(long userId, CancellationToken ct)
    {
        if (_sql is not { } sql)
        {
            PrepareInBackground();
            return [];
        }
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(1));
            await using var cmd = db.CreateCommand(sql);
            cmd.Parameters.AddWithValue(userId);
            await using var reader = await cmd.ExecuteReaderAsync(timeout.Token);
            var plays = new List<(long, float)>();
            while (await reader.ReadAsync(timeout.Token))
            {
                if (!reader.IsDBNull(0)) plays.Add((reader.GetInt64(0), reader.GetFloat(1)));
            }
            return plays;
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            log.LogWarning("could not read plays of user {UserId}: {Message}", userId, e.Message);
            return [];
        }
    }

    /// <summary>Least time between two attempts: while the database is down, not one connect and one warning per request.</summary>
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(5);
    private long _lastAttempt;

    private void PrepareInBackground()
    {
        long now = Environment.TickCount64;
        if (now - Volatile.Read(ref _lastAttempt) < (long)RetryAfter.TotalMilliseconds) return;
        if (Interlocked.Exchange(ref _preparing, 1) != 0) return;
        Volatile.Write(ref _lastAttempt, now);
        _ = Task.Run(async () =>
        {
            try
            {
                await PrepareAsync(CancellationToken.None);
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                log.LogWarning("fold-in lookups are off until the plays table can be checked: {Message}", e.Message);
            }
            finally
            {
                Volatile.Write(ref _preparing, 0);
            }
        });
    }
}
