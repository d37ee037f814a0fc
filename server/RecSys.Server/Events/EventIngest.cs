using System.Collections.Concurrent;
using RecSys.Engine.Data;
using RecSys.Engine.Events;
using RecSys.Server.Configuration;
using RecSys.Server.Hosting;

namespace RecSys.Server.Events;

/// <summary>
/// Takes batches from requests and stores them with group commit: a writer thread drains every
/// waiting batch into one store call (one fsync, or one transaction), so concurrent requests share
/// the cost of durability. The embedded log has one writer; a database has
/// <see cref="EventOptions.DatabaseWriters"/>, each with its own session, so commits overlap. A
/// request is answered only after its batch is stored and the listeners' live state knows it. The queue is bounded (<see cref="EventOptions.QueueEvents"/>): past it a
/// batch is refused at once (503) rather than held in memory; nothing accepted is ever dropped.
/// With replicas (<paramref name="feed"/>), stored events are numbered by the shared play feed and the
/// other replicas' events arrive through it.
/// </summary>
public sealed class EventIngest(ServerOptions options, LivePlays live, ModelHost host, ILogger<EventIngest> log, ISharedPlayFeed? feed = null)
    : IHostedService, IDisposable
{
    /// <summary>Most events in one store call (one transaction or one write); more wait for the next.</summary>
    private const int CommitEvents = 50_000;

    private sealed record Pending(IReadOnlyList<PlayEvent> Events, TaskCompletionSource<IngestResult> Done);

    private readonly ConcurrentQueue<Pending> _queue = new();
    private readonly ManualResetEventSlim _wake = new(false);
    private IPlayEventStore[] _stores = [];
    private Thread[] _writers = [];
    private Task[] _writersDone = [];
    private volatile bool _stopping;
    private int _queued;
    private long _stored;
    private long _duplicates;
    private long _through;
    private string? _lastError;

    private string _epoch = Guid.NewGuid().ToString("N");

    /// <summary>
    /// Identifies the sequence numbers: the embedded log's id, the shared play feed's with replicas, or
    /// this process for a single node's database (whose numbers start anew each run).
    /// </summary>
    public string Epoch => feed?.Epoch ?? _epoch;

    /// <summary>The newest event's sequence number stored (or, with replicas, applied) here.</summary>
    public long Through => Math.Max(Interlocked.Read(ref _through), feed?.Applied ?? 0);

    /// <summary>
    /// What a training that reads the plays now will have seen: every event numbered up to the mark.
    /// With replicas, the shared feed's newest number (any replica's events); blocking then.
    /// </summary>
    public (string Epoch, long Through) TrainingMark() => feed?.Mark() ?? (Epoch, Interlocked.Read(ref _through));

    /// <summary>The shared play feed (replicas only).</summary>
    public ISharedPlayFeed? Feed => feed;

    /// <summary>The embedded log (null with a database).</summary>
    public EventLog? Log => _stores.FirstOrDefault() as EventLog;

    public string Store => _stores.FirstOrDefault()?.Description ?? "not open";
    public long Stored => Interlocked.Read(ref _stored);
    public long Duplicates => Interlocked.Read(ref _duplicates);
    public int Queued => Volatile.Read(ref _queued);
    public string? LastError => _lastError;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!string.IsNullOrWhiteSpace(options.Db))
        {
            // Several sessions: one commit's wait (its WAL flush) overlaps the next one's work.
            var numbers = new EventSequence();
            var stores = Enumerable.Range(0, options.Events.DatabaseWriters).Select(_ => new PostgresEventStore(options.Db, options.DbMapping, numbers, feed?.Origin)).ToArray();
            _stores = stores;
            try
            {
                foreach (var store in stores) store.Prepare();
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or SchemaMappingException)
            {
                // Plays are still served; events answer 503 with this reason until the table fits.
                _lastError = e.Message;
                log.LogWarning("play events cannot be stored yet: {Message}", e.Message);
            }
        }
        else
        {
            var eventLog = EventLog.Open(Path.Combine(options.Storage, "events"), options.Events.DedupWindow);
            _stores = [eventLog];
            _epoch = eventLog.Id.ToString("N");
            _through = eventLog.LastSequence;
            if (eventLog.Recovered is { } torn)
            {
                log.LogWarning("the event log ended in a torn write ({Reason}): {Bytes} bytes at offset {At} cut and saved to {SavedTo}",
                    torn.Reason, torn.Bytes, torn.At, torn.SavedTo);
            }
        }
        live.Epoch = Epoch;
        if (Log is { } replayFrom) Replay(replayFrom);
        // Replicas: what the served model has not seen, from every replica. With the database away
        // (the stores could not prepare) start-up does not wait for it: the follower catches up once it answers.
        if (_lastError is null && feed is not null) await Task.Run(feed.CatchUp, cancellationToken);
        var done = _stores.Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        _writersDone = done.Select(d => d.Task).ToArray();
        _writers = _stores.Select((store, i) => new Thread(() =>
        {
            try
            {
                WriteLoop(store);
            }
            finally
            {
                done[i].SetResult();
            }
        }) { IsBackground = true, Name = $"recsys-events-{i}" }).ToArray();
        foreach (var writer in _writers) writer.Start();
    }

    /// <summary>Events stored after the current model's training are live again, as before the restart.</summary>
    private void Replay(EventLog eventLog)
    {
        long after = 0;
        try
        {
            if (host.Store.Current is { } version && host.Store.ReadManifest(version) is { EventsEpoch: { } epoch } m && epoch == Epoch) after = m.EventsThrough;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException or InvalidOperationException
            or Engine.Model.ModelFormatException)
        {
            log.LogWarning("replaying every stored event: the current model's manifest cannot be read ({Message})", e.Message);
        }
        live.StoredAfter = sequence => eventLog.Read(sequence).Where(r => r.Event.Qualifies).Select(r => (r.Event.UserId, r.Event.TrackId, r.Sequence));
        live.HeldAbove(after);
        int replayed = 0;
        foreach (var chunk in eventLog.Read(after).Chunk(4096))
        {
            live.Record(chunk.Select(r => r.Event).ToArray(), chunk.Select(r => r.Sequence).ToArray());
            replayed += chunk.Length;
        }
        if (replayed > 0) log.LogInformation("{Count} play events stored since the current model's training are live again", replayed);
    }

    /// <summary>
    /// Queues a validated batch; the task ends when it is stored (or fails with the reason nothing
    /// of it was). Null when the queue is full or the server is stopping: answer 503.
    /// </summary>
    public Task<IngestResult>? TrySubmit(IReadOnlyList<PlayEvent> events)
    {
        if (_stopping || _stores.Length == 0) return null;
        if (Interlocked.Add(ref _queued, events.Count) > options.Events.QueueEvents)
        {
            Interlocked.Add(ref _queued, -events.Count);
            ServerMetrics.EventsRefused.Inc();
            return null;
        }
        var pending = new Pending(events, new TaskCompletionSource<IngestResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        _queue.Enqueue(pending);
        _wake.Set();
        return pending.Done.Task;
    }

    private void WriteLoop(IPlayEventStore store)
    {
        var batch = new List<Pending>();
        var merged = new List<PlayEvent>();
        Pending? carried = null;
        while (true)
        {
            if (carried is null) _wake.Wait();
            // Once stopping, the signal stays set so every writer sees it (one writer's reset could hide it from another).
            if (!_stopping) _wake.Reset();
            while (true)
            {
                batch.Clear();
                merged.Clear();
                // At most CommitEvents a call (a request that would pass it waits for the next call).
                while ((carried ?? (_queue.TryDequeue(out var next) ? next : null)) is { } pending)
                {
                    carried = null;
                    if (merged.Count > 0 && merged.Count + pending.Events.Count > CommitEvents)
                    {
                        carried = pending;
                        break;
                    }
                    batch.Add(pending);
                    merged.AddRange(pending.Events);
                }
                if (batch.Count == 0) break;
                Commit(store, batch, merged);
            }
            if (_stopping && _queue.IsEmpty && carried is null) return;
        }
    }

    private void Commit(IPlayEventStore store, List<Pending> batch, List<PlayEvent> merged)
    {
        long[] sequences;
        // A commit whose outcome is unknown numbered its plays above what the feed had applied before it.
        long applied = feed?.Applied ?? 0;
        try
        {
            sequences = store.Store(merged);
            _lastError = null;
        }
        catch (Exception e) when (batch.Count > 1)
        {
            RecheckIfUnknown(e, applied);
            // One request's event the table cannot take (an id past an int column's range, an event id
            // too long for its column) fails the whole transaction: each request alone, so only that
            // one is refused.
            log.LogWarning("a group commit of {Requests} requests failed ({Message}); storing them one by one", batch.Count, e.Message);
            foreach (var p in batch) Commit(store, [p], [.. p.Events]);
            return;
        }
        catch (Exception e)
        {
            // Nothing of the call was stored (or, its commit's outcome unknown, maybe all of it): the
            // request is told so and may retry, and its retry is kept once.
            RecheckIfUnknown(e, applied);
            _lastError = e.Message;
            log.LogError("could not store {Count} play events: {Message}", merged.Count, e.Message);
            foreach (var p in batch)
            {
                Interlocked.Add(ref _queued, -p.Events.Count);
                p.Done.SetException(new EventStoreException(e.Message, e));
            }
            ServerMetrics.EventBatches.WithLabels("failed").Inc(batch.Count);
            // A failing store (database down, disk full) is not hammered by the writer.
            Thread.Sleep(100);
            return;
        }
        try
        {
            live.Record(merged, sequences);
        }
        catch (Exception e)
        {
            // The events are stored: the requests are answered 202 whatever the live state did.
            log.LogError(e, "live state missed {Count} stored play events (they count from the next training)", merged.Count);
        }
        long newest = sequences.Length == 0 ? 0 : sequences.Max();
        // Writers side by side finish in any order: the mark only moves up.
        for (long seen = Interlocked.Read(ref _through); newest > seen; seen = Interlocked.Read(ref _through))
        {
            if (Interlocked.CompareExchange(ref _through, newest, seen) == seen) break;
        }
        int at = 0;
        foreach (var p in batch)
        {
            int stored = 0;
            for (int i = 0; i < p.Events.Count; i++) stored += sequences[at + i] != 0 ? 1 : 0;
            at += p.Events.Count;
            Interlocked.Add(ref _stored, stored);
            Interlocked.Add(ref _duplicates, p.Events.Count - stored);
            Interlocked.Add(ref _queued, -p.Events.Count);
            ServerMetrics.Events.WithLabels("stored").Inc(stored);
            ServerMetrics.Events.WithLabels("duplicate").Inc(p.Events.Count - stored);
            p.Done.SetResult(new IngestResult(stored, p.Events.Count - stored));
        }
        ServerMetrics.EventBatches.WithLabels("stored").Inc(batch.Count);
    }

    /// <summary>Plays that may have been stored unseen by this process's live state are read back from the shared feed.</summary>
    private void RecheckIfUnknown(Exception e, long applied)
    {
        if (e is CommitOutcomeUnknownException) feed?.Recheck(applied);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // Requests already queued are stored and answered; new ones are refused. Awaited, not joined:
        // the caller may be a socket thread.
        _stopping = true;
        _wake.Set();
        await Task.WhenAll(_writersDone);
        // A request that slipped in as the writer finished is told, not left waiting.
        while (_queue.TryDequeue(out var late)) late.Done.TrySetException(new EventStoreException("the server is stopping", new OperationCanceledException()));
        foreach (var store in _stores) store.Dispose();
    }

    public void Dispose()
    {
        _wake.Dispose();
    }
}
