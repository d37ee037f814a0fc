using Npgsql;
using RecSys.Engine.Data;
using RecSys.Server.Configuration;
using RecSys.Server.Hosting;

namespace RecSys.Server.Cluster;

/// <summary>
/// Keeps a replica on the shared registry's current version and on the other replicas' play events:
/// LISTENs on <see cref="ClusterSchema.Channel"/> and <see cref="PostgresPlayFeed.Channel"/> over a
/// connection of its own, follows each promotion and catches up with the play feed as they are
/// announced, and between announcements checks both every <see cref="ClusterOptions.PollMilliseconds"/>,
/// which also covers announcements lost while the connection was down. A lost connection (PostgreSQL
/// restarted) is reopened with backoff and subscribed again; serving never waits on any of it.
/// </summary>
public sealed class ClusterFollower(ServerOptions options, ModelHost host, ClusterPlayFeed feed, TimeProvider time, ILogger<ClusterFollower> log)
    : BackgroundService
{
    /// <summary>The subscription's connection in pg_stat_activity.</summary>
    public const string ApplicationName = "recsys-follower";

    private readonly SingleFlight _follow = new();
    /// <summary>1 when a registry check was asked for by an announcement (a malformed version is retried only then).</summary>
    private int _announced;
    private volatile bool _listening;
    private long _lastAnnouncementTicks;

    /// <summary>Whether the subscription is up now.</summary>
    public bool Listening => _listening;

    /// <summary>When the last promotion was announced to this replica.</summary>
    public DateTime? LastAnnouncementUtc => Interlocked.Read(ref _lastAnnouncementTicks) is > 0 and var t ? new DateTime(t, DateTimeKind.Utc) : null;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var poll = TimeSpan.FromMilliseconds(options.Cluster.PollMilliseconds);
        // Npgsql's own keepalive does not mix well with waiting for notifications; a "SELECT 1" at each
        // periodic check (below) finds a dead connection instead, and the operating system's keepalive a silent one.
        var connectionString = new NpgsqlConnectionStringBuilder(options.Db) { Pooling = false, TcpKeepAlive = true, ApplicationName = ApplicationName }.ConnectionString;
        var backoff = TimeSpan.FromMilliseconds(250);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                bool promoted = false, played = false;
                connection.Notification += (_, e) =>
                {
                    if (e.Channel == PostgresPlayFeed.Channel) played = true;
                    else promoted = true;
                };
                await connection.OpenAsync(stoppingToken);
                await using (var listen = new NpgsqlCommand($"LISTEN {ClusterSchema.Channel}; LISTEN {PostgresPlayFeed.Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }
                _listening = true;
                ServerMetrics.ClusterListening.Set(1);
                backoff = TimeSpan.FromMilliseconds(250);
                log.LogInformation("following the model registry in PostgreSQL as {Node}", options.Cluster.NodeName(options.Port));
                // Whatever was promoted or played while not listening.
                CatchUpSoon();
                FollowSoon(announced: true);
                // The periodic check runs every poll interval even while notifications keep coming (plays
                // on a busy cluster): it is what retries a version a lagging shared volume did not yet have.
                long checkedAt = time.GetTimestamp();
                while (!stoppingToken.IsCancellationRequested)
                {
                    var wait = poll - time.GetElapsedTime(checkedAt);
                    await connection.WaitAsync(wait > TimeSpan.FromMilliseconds(1) ? wait : TimeSpan.FromMilliseconds(1), stoppingToken);
                    if (played)
                    {
                        played = false;
                        CatchUpSoon();
                    }
                    if (promoted)
                    {
                        promoted = false;
                        Interlocked.Exchange(ref _lastAnnouncementTicks, time.GetUtcNow().UtcDateTime.Ticks);
                        FollowSoon(announced: true);
                    }
                    if (time.GetElapsedTime(checkedAt) >= poll)
                    {
                        await Ping(connection, stoppingToken);
                        CatchUpSoon();
                        FollowSoon(announced: false);
                        checkedAt = time.GetTimestamp();
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or IOException or System.Net.Sockets.SocketException or TimeoutException)
            {
                if (_listening) log.LogWarning("lost the registry's and the play feed's notifications: {Message}; subscribing again", e.Message);
                _listening = false;
                ServerMetrics.ClusterListening.Set(0);
                try
                {
                    await Task.Delay(backoff, time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 5000));
            }
        }
    }

    /// <summary>
    /// The play feed and the registry are read off this loop, so a model load (seconds on a large
    /// catalog) never holds up the other replicas' plays, and each never twice at once.
    /// </summary>
    private void CatchUpSoon() => _ = Task.Run(feed.CatchUp);

    private void FollowSoon(bool announced)
    {
        if (announced) Interlocked.Exchange(ref _announced, 1);
        _ = Task.Run(() => _follow.Run(Follow));
    }

    private static async Task Ping(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var ping = new NpgsqlCommand("SELECT 1", connection);
        await ping.ExecuteScalarAsync(cancellationToken);
    }

    /// <summary>One check of the registry (blocking: on the pool, never on a thread an inline socket completion resumed).</summary>
    private void Follow()
    {
        bool announced = Interlocked.Exchange(ref _announced, 0) == 1;
        try
        {
            var outcome = host.Follow(announced);
            if (outcome is { Ok: false }) log.LogWarning("could not follow the registry to {Version}: {Message}", outcome.Version, outcome.Message);
            ServerMetrics.ModelInSync.Set(InSync() ? 1 : 0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The registry is unreachable right now: the subscription notices too, and the next check tries again.
            log.LogDebug("registry check failed: {Message}", e.Message);
            ServerMetrics.ModelInSync.Set(0);
        }
        catch (Exception e)
        {
            // Off the loop nothing else would see it: said, and tried again at the next check.
            log.LogError(e, "following the registry failed");
            ServerMetrics.ModelInSync.Set(0);
        }
    }

    /// <summary>Whether this replica serves the registry's current version (false when either is unknown).</summary>
    public bool InSync()
    {
        try
        {
            return host.Current?.Version is { } serving && serving == host.Store.Current;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
