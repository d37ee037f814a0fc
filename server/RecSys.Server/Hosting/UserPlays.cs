using Npgsql;
using RecSys.Engine.Data;
using RecSys.Server.Configuration;

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
/// Qualified plays from the mapped plays table (same rule as training), answered within one second
/// whatever the database does: a slow, failing or hung database gives the popularity answer rather than
/// a slow or failed request. The query is built once from the mapping checked against the catalog
/// (<see cref="PrepareAsync"/>, at start-up; until it succeeds, lookups answer nothing and retry it in
/// the background). After a failure, lookups pause (0.5 s, doubling to 30 s while failures go on), so a
/// database that is down costs one connection attempt and one log line per pause, not one per request.
/// </summary>
public sealed class PostgresUserPlays(NpgsqlDataSource db, ServerOptions options, ILogger<PostgresUserPlays> log) : IUserPlays
{
    /// <summary>The most a request waits for the database.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan FirstPause = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan LongestPause = TimeSpan.FromSeconds(30);

    /// <summary>Least time between two attempts to check the mapping: while the database is down, not one per request.</summary>
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(5);

    private volatile string? _sql;
    private int _preparing;
    private readonly object _pauseGate = new();
    private long _pausedUntil;
    private int _failures;
    private int _probing;
    private long _skipped;
    private long _lastAttempt;

    /// <summary>Lookups answered without asking the database because it was failing (for the log; /metrics counts them as recsys_foldin_lookups_skipped_total).</summary>
    public long Skipped => Interlocked.Read(ref _skipped);

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
        // While the database is failing: nothing during a pause, then one request probes it, alone.
        bool failing = Volatile.Read(ref _failures) > 0;
        if (Environment.TickCount64 < Volatile.Read(ref _pausedUntil) || (failing && Interlocked.Exchange(ref _probing, 1) == 1))
        {
            Interlocked.Increment(ref _skipped);
            ServerMetrics.FoldInLookupsSkipped.Inc();
            return [];
        }
        var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(Timeout);
        var lookup = ReadAsync(sql, userId, timeout.Token);
        // Disposed when the lookup ends, not when this request stops waiting: disposing it earlier would
        // also drop the timer that cancels a lookup the request has given up on.
        _ = lookup.ContinueWith(static (t, state) =>
        {
            _ = t.Exception;
            ((CancellationTokenSource)state!).Dispose();
        }, timeout, TaskScheduler.Default);
        try
        {
            // Cancellation alone does not bound the wait: against a hung server Npgsql first asks it to
            // cancel, then gives up on the connection, which took 15-30 s. The request stops waiting
            // here; the lookup ends in the background (its connection is discarded, not reused).
            var plays = await lookup.WaitAsync(Timeout, ct);
            if (failing) Interlocked.Exchange(ref _failures, 0);
            return plays;
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or TimeoutException && !ct.IsCancellationRequested)
        {
            Pause(userId, e);
            return [];
        }
        finally
        {
            if (failing) Volatile.Write(ref _probing, 0);
        }
    }

    private async Task<IReadOnlyList<(long TrackId, float Plays)>> ReadAsync(string sql, long userId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.AddWithValue(userId);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var plays = new List<(long, float)>();
        while (await reader.ReadAsync(ct))
        {
            if (!reader.IsDBNull(0)) plays.Add((reader.GetInt64(0), reader.GetFloat(1)));
        }
        return plays;
    }

    /// <summary>Starts a pause, unless one that a concurrent failure started is still on; one log line per pause.</summary>
    private void Pause(long userId, Exception e)
    {
        double ms;
        lock (_pauseGate)
        {
            long now = Environment.TickCount64;
            if (now < _pausedUntil) return;
            int failures = ++_failures;
            ms = Math.Min(LongestPause.TotalMilliseconds, FirstPause.TotalMilliseconds * Math.Pow(2, Math.Min(failures - 1, 16)));
            Volatile.Write(ref _pausedUntil, now + (long)ms);
        }
        log.LogWarning("could not read plays of user {UserId} ({Message}); fold-in lookups paused {Pause:F1} s, {Skipped} answered without the database so far",
            userId, e is TimeoutException or OperationCanceledException ? $"no answer within {Timeout.TotalSeconds:F0} s" : e.Message, ms / 1000, Skipped);
    }

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
