using Npgsql;
using RecSys.Engine.Data;
using RecSys.Server.Events;
using RecSys.Server.Hosting;

namespace RecSys.Server.Cluster;

/// <summary>
/// Play events across replicas: every replica stores the qualified plays it receives in the shared
/// <see cref="PostgresPlayFeed"/> (numbered in commit order) and applies the other replicas' by tailing
/// it, woken by its notification (<see cref="ClusterFollower"/> listens) and checked at each poll. The
/// feed's numbers are the sequence numbers of live plays and of a model's <c>events_through</c>, so a
/// model trained on any replica retires exactly the plays it saw, everywhere. A replica starting
/// replays what the served model has not seen.
/// </summary>
public sealed class ClusterPlayFeed(NpgsqlDataSource db, ModelHost host, LivePlays live, ILogger<ClusterPlayFeed> log) : ISharedPlayFeed
{
    /// <summary>Rows read per query while catching up.</summary>
    private const int Page = 20_000;

    private readonly SingleFlight _catchUp = new();
    private long _applied;
    private long _received;
    private long _recheckFrom = long.MaxValue;
    private volatile string? _epoch;
    private volatile string? _lastError;

    /// <summary>Random, so a restarted process is another origin (it applies its earlier plays from the feed).</summary>
    public long Origin { get; } = Random.Shared.NextInt64(1, long.MaxValue);

    public string? Epoch => _epoch;

    public long Applied => Interlocked.Read(ref _applied);

    public long Received => Interlocked.Read(ref _received);

    public string? LastError => _lastError;

    public void CatchUp() => _catchUp.Run(TryApply);

    public void Recheck(long after)
    {
        for (long seen = Interlocked.Read(ref _recheckFrom); after < seen; seen = Interlocked.Read(ref _recheckFrom))
        {
            if (Interlocked.CompareExchange(ref _recheckFrom, after, seen) == seen) break;
        }
    }

    public (string Epoch, long Through) Mark()
    {
        using var connection = db.OpenConnection();
        PostgresPlayFeed.Ensure(connection);
        return PostgresPlayFeed.Mark(connection);
    }

    public long Prune()
    {
        if (_epoch is not { } epoch) return 0;
        long oldest = long.MaxValue;
        foreach (var version in host.Store.Versions())
        {
            ModelManifest? manifest;
            try
            {
                manifest = host.Store.ReadManifest(version);
            }
            catch (Exception e)
            {
                // A kept version whose needs are unknown: keep everything.
                log.LogWarning("not pruning the play feed: the manifest of {Version} cannot be read ({Message})", version, e.Message);
                return 0;
            }
            if (manifest is { EventsEpoch: { } trained } && trained == epoch) oldest = Math.Min(oldest, manifest.EventsThrough);
        }
        if (oldest == long.MaxValue) return 0;
        using var connection = db.OpenConnection();
        return PostgresPlayFeed.Prune(connection, oldest);
    }

    private void TryApply()
    {
        try
        {
            Apply();
            if (_lastError is not null) log.LogInformation("the play feed answers again");
            _lastError = null;
        }
        catch (Exception e)
        {
            // The next notification or poll tries again from the same number: nothing is skipped. A feed
            // table dropped meanwhile is made again then.
            if (e is PostgresException { SqlState: PostgresErrorCodes.UndefinedTable }) _epoch = null;
            if (_lastError is null) log.LogWarning(e, "cannot read the play feed: {Message}; other replicas' plays wait until it answers", e.Message);
            _lastError = e.Message;
        }
    }

    private void Apply()
    {
        // Taken before the mark: a recheck asked for after it (its rows maybe above the mark) stays for the next round.
        long recheck = Interlocked.Exchange(ref _recheckFrom, long.MaxValue);
        try
        {
            using var connection = db.OpenConnection();
            if (_epoch is null) PostgresPlayFeed.Ensure(connection);
            var (epoch, through) = PostgresPlayFeed.Mark(connection);
            // First contact, or a feed dropped and made again: its numbers start over.
            if (epoch != _epoch) Resume(epoch, through);
            if (recheck < through) ApplyRange(connection, recheck, through, othersThan: null);
            if (Applied < through) ApplyRange(connection, Applied, through, othersThan: Origin);
        }
        catch
        {
            if (recheck != long.MaxValue) Recheck(recheck);
            throw;
        }
    }

    /// <summary>
    /// Applies the rows numbered above <paramref name="after"/> up to <paramref name="through"/>: with
    /// <paramref name="othersThan"/>, other processes' (and the mark moves to <paramref name="through"/>);
    /// without, every row (a recheck: the mark stays).
    /// </summary>
    private void ApplyRange(NpgsqlConnection connection, long after, long through, long? othersThan)
    {
        while (after < through)
        {
            var rows = othersThan is { } mine
                ? PostgresPlayFeed.ReadOthers(connection, after, through, mine, Page)
                : PostgresPlayFeed.Read(connection, after, Page).Where(r => r.Id <= through).ToList();
            if (rows.Count > 0)
            {
                // Counted as they are new here (a recheck reads plays applied before).
                int added = live.Record([.. rows.Where(r => r.Origin != Origin).Select(r => (r.UserId, r.TrackId, r.Id))]);
                live.Record([.. rows.Where(r => r.Origin == Origin).Select(r => (r.UserId, r.TrackId, r.Id))]);
                Interlocked.Add(ref _received, added);
                ServerMetrics.Events.WithLabels("replicated").Inc(added);
            }
            after = rows.Count == Page ? rows[^1].Id : through;
            if (othersThan is not null) Interlocked.Exchange(ref _applied, after);
        }
    }

    /// <summary>
    /// Takes up where the served model's training stopped (<see cref="LivePlays.Resume"/>): the plays
    /// after its <c>events_through</c> become live again, each replica's alike.
    /// </summary>
    private void Resume(string epoch, long newest)
    {
        long? registryThrough = null;
        try
        {
            if (host.Store.Current is { } version && host.Store.ReadManifest(version) is { EventsEpoch: { } trained } manifest && trained == epoch)
            {
                registryThrough = manifest.EventsThrough;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException or InvalidOperationException
            or Engine.Model.ModelFormatException)
        {
            log.LogWarning("the current model's manifest cannot be read ({Message}): play events from now on are live", e.Message);
        }
        long after = live.Resume(epoch, Stored, registryThrough, newest);
        Interlocked.Exchange(ref _applied, after);
        _epoch = epoch;
        log.LogInformation("play events shared through PostgreSQL ({Epoch}); live from number {After} on", epoch, after);
    }

    /// <summary>Stored plays after a number, in order (a rollback's replay of what the older model lacks).</summary>
    private IEnumerable<(long UserId, long TrackId, long Sequence)> Stored(long after)
    {
        using var connection = db.OpenConnection();
        while (true)
        {
            var rows = PostgresPlayFeed.Read(connection, after, Page);
            foreach (var r in rows) yield return (r.UserId, r.TrackId, r.Id);
            if (rows.Count < Page) yield break;
            after = rows[^1].Id;
        }
    }
}
