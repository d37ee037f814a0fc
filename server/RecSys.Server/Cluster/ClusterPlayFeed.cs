using Npgsql;
using RecSys.Engine.Data;
using RecSys.Engine.Events;
using RecSys.Server.Events;
using RecSys.Server.Hosting;

namespace RecSys.Server.Cluster;

/// <summary>
/// Play events across replicas: every replica stores the events it receives in the shared
/// <see cref="PostgresPlayFeed"/> (numbered in commit order) and applies the other replicas' by tailing
/// it, woken by its notification (<see cref="ClusterFollower"/> listens) and checked at each poll. The
/// feed's numbers are the sequence numbers of live plays and of a model's <c>events_through</c>, so a
/// model trained on any replica retires exactly the plays it saw, everywhere. A replica starting
/// replays what the served model has not seen.
/// </summary>
public sealed class ClusterPlayFeed(NpgsqlDataSource db, ModelHost host, LivePlays live, ILogger<ClusterPlayFeed> log)
{
    /// <summary>Rows read per query while catching up.</summary>
    private const int Page = 20_000;

    private int _running;
    private volatile bool _again;
    private long _applied;
    private long _received;
    private volatile string? _epoch;

    /// <summary>This process's mark on the rows it stored (it applied them when it stored them): random, so a restart is another origin.</summary>
    public long Origin { get; } = Random.Shared.NextInt64(1, long.MaxValue);

    /// <summary>The feed's identity once read from the database (null until then).</summary>
    public string? Epoch => _epoch;

    /// <summary>Every play up to this number is applied here (other replicas' by the feed, this process's when stored).</summary>
    public long Applied => Interlocked.Read(ref _applied);

    /// <summary>Other replicas' qualified plays applied here.</summary>
    public long Received => Interlocked.Read(ref _received);

    public string? LastError { get; private set; }

    /// <summary>
    /// Takes up where the served model's training stopped: the plays after its <c>events_through</c>
    /// become live again, each replica's alike. A model trained before the feed existed (another
    /// epoch) has numbers that mean nothing here; then only plays from now on are live. Blocking.
    /// </summary>
    private void Resume(NpgsqlConnection connection)
    {
        PostgresPlayFeed.Ensure(connection);
        string epoch = PostgresPlayFeed.Epoch(connection);
        long after;
        ModelManifest? manifest = null;
        try
        {
            if (host.Store.Current is { } version) manifest = host.Store.ReadManifest(version);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException or InvalidOperationException
            or Engine.Model.ModelFormatException)
        {
            log.LogWarning("the current model's manifest cannot be read ({Message}): play events from now on are live", e.Message);
        }
        after = manifest is { EventsEpoch: { } trained } && trained == epoch ? manifest.EventsThrough : PostgresPlayFeed.Newest(connection);
        live.Epoch = epoch;
        live.StoredAfter = Stored;
        live.HeldAbove(after);
        Interlocked.Exchange(ref _applied, after);
        _epoch = epoch;
        log.LogInformation("play events shared through PostgreSQL ({Epoch}); live from number {After} on", epoch, after);
    }

    /// <summary>
    /// Applies every row past <see cref="Applied"/> (other replicas' plays; this process's own are
    /// applied already). Calls while one runs make it run again instead of queueing. Blocking: on the pool.
    /// </summary>
    public void CatchUp()
    {
        _again = true;
        // A call that finds one running leaves it _again; the runner, having let go, looks once more.
        while (_again && Interlocked.CompareExchange(ref _running, 1, 0) == 0)
        {
            try
            {
                while (_again)
                {
                    _again = false;
                    Apply();
                }
                LastError = null;
            }
            catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException)
            {
                // The next notification or poll tries again from the same number: nothing is skipped.
                LastError = e.Message;
                log.LogDebug("play feed catch-up failed: {Message}", e.Message);
                return;
            }
            finally
            {
                Volatile.Write(ref _running, 0);
            }
        }
    }

    private void Apply()
    {
        using var connection = db.OpenConnection();
        if (_epoch is null) Resume(connection);
        long through = PostgresPlayFeed.Newest(connection);
        while (Applied < through)
        {
            var rows = PostgresPlayFeed.ReadOthers(connection, Applied, through, Origin, Page);
            if (rows.Count > 0)
            {
                live.Record([.. rows.Select(r => (r.UserId, r.TrackId, r.Id))]);
                Interlocked.Add(ref _received, rows.Count);
                ServerMetrics.Events.WithLabels("replicated").Inc(rows.Count);
            }
            Interlocked.Exchange(ref _applied, rows.Count == Page ? rows[^1].Id : through);
        }
    }

    /// <summary>What a training reads from now on: the feed's identity and newest number (every play up to it is committed).</summary>
    public (string Epoch, long Through) Mark()
    {
        using var connection = db.OpenConnection();
        PostgresPlayFeed.Ensure(connection);
        return (_epoch ?? PostgresPlayFeed.Epoch(connection), PostgresPlayFeed.Newest(connection));
    }

    /// <summary>
    /// Forgets rows every kept version was trained on (a rollback to the oldest still finds what it
    /// lacks). Versions of another epoch need none of them.
    /// </summary>
    public long Prune()
    {
        if (_epoch is not { } epoch) return 0;
        long? oldest = null;
        foreach (var version in host.Store.Versions())
        {
            var manifest = host.Store.ReadManifest(version);
            if (manifest is { EventsEpoch: { } e } && e == epoch) oldest = Math.Min(oldest ?? long.MaxValue, manifest.EventsThrough);
        }
        if (oldest is not { } through) return 0;
        using var connection = db.OpenConnection();
        return PostgresPlayFeed.Prune(connection, through);
    }

    /// <summary>Stored plays after a number, in order (a rollback's replay of what the older model lacks).</summary>
    private IEnumerable<(PlayEvent Event, long Sequence)> Stored(long after)
    {
        using var connection = db.OpenConnection();
        while (true)
        {
            var rows = PostgresPlayFeed.Read(connection, after, Page);
            foreach (var r in rows)
            {
                yield return (new PlayEvent("", r.UserId, r.TrackId, 100, false, default), r.Id);
            }
            if (rows.Count < Page) yield break;
            after = rows[^1].Id;
        }
    }
}
