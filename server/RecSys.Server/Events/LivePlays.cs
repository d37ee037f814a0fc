using System.Collections.Concurrent;
using RecSys.Engine.Ann;
using RecSys.Engine.Events;
using RecSys.Engine.Recommend;
using RecSys.Server.Configuration;
using RecSys.Server.Hosting;

namespace RecSys.Server.Events;

/// <summary>
/// The served state that play events change between trainings: per listener, the qualified plays
/// received since the serving model was trained (their next answer folds them in, and never
/// recommends those tracks), and the popularity counts. A model knows which events it was trained on
/// (its manifest's events epoch and sequence number), so plays it already saw are never counted twice;
/// after a swap they are dropped here.
/// </summary>
public sealed class LivePlays
{
    private readonly ConcurrentDictionary<long, LiveUser> _users = new();
    private readonly ModelHost _host;
    private readonly ILogger<LivePlays> _log;
    private readonly NewTrackFolding _newTracks;
    private volatile LivePopularity? _popularity;

    /// <summary>Every stored play above this sequence number is held here (plays at or below it were pruned, or never replayed); under <see cref="_write"/>.</summary>
    private long _heldAbove;

    /// <summary>Held by the event writer while it records, and by the clean-up after a swap, so no play slips between them.</summary>
    private readonly object _write = new();

    public LivePlays(ModelHost host, ServerOptions options, ILogger<LivePlays> log)
    {
        _host = host;
        _log = log;
        _newTracks = new NewTrackFolding(host, options.Events, log);
        host.Swapped += OnSwapped;
    }

    /// <summary>Tracks played since training that have factors now (for the serving model; empty for another).</summary>
    public LiveTracks Tracks(ServingModel serving) => _newTracks.For(serving);

    /// <summary>Raised when tracks get factors (the server empties its response cache).</summary>
    public event Action? TracksChanged
    {
        add => _newTracks.Changed += value;
        remove => _newTracks.Changed -= value;
    }

    /// <summary>
    /// Where stored qualified plays can be read again after a sequence number, in order (the embedded
    /// log, or the replicas' shared feed; null with a single node's database): a swap to a model trained
    /// on fewer events than were pruned (a rollback, or start-up serving an older version than the
    /// current one) replays the gap from it.
    /// </summary>
    public Func<long, IEnumerable<(long UserId, long TrackId, long Sequence)>>? StoredAfter { get; set; }

    /// <summary>Start-up with the embedded log: the events replayed were those after <paramref name="sequence"/>.</summary>
    public void HeldAbove(long sequence)
    {
        lock (_write) _heldAbove = sequence;
    }

    /// <summary>
    /// Replicas: the shared feed's numbers from now on (<paramref name="epoch"/>), and where to take up.
    /// Above the served model's <c>events_through</c> when it was trained on this feed; before any model
    /// is served, above <paramref name="registryThrough"/> (the registry's current version's); otherwise
    /// above <paramref name="newest"/> (only plays from now on are live). Returns the number taken up
    /// above. Under the write lock, so a swap's rebase sees all of it or none.
    /// </summary>
    public long Resume(string epoch, Func<long, IEnumerable<(long UserId, long TrackId, long Sequence)>> storedAfter, long? registryThrough, long newest)
    {
        lock (_write)
        {
            // Another feed's numbers (the table made again) mean nothing next to this one's: start afresh.
            bool anotherFeed = Epoch is not null && Epoch != epoch && StoredAfter is not null;
            if (anotherFeed) _users.Clear();
            Epoch = epoch;
            StoredAfter = storedAfter;
            _heldAbove = _host.Current is { } serving
                ? serving.Manifest is { EventsEpoch: { } trained, EventsThrough: var through } && trained == epoch ? through : newest
                : registryThrough ?? newest;
            if (anotherFeed && _host.Current is { } current) Recount(current, Through(current));
            return _heldAbove;
        }
    }

    /// <summary>The event store's epoch (set when it opens): sequence numbers of other epochs mean nothing here.</summary>
    public string? Epoch { get; set; }

    public int Users => _users.Count;

    /// <summary>The newest event a model was trained on, in this epoch's numbers (0: none, or not this epoch's).</summary>
    public long Through(ServingModel model) =>
        model.Manifest is { EventsEpoch: { } epoch, EventsThrough: var through } && epoch == Epoch ? through : 0;

    /// <summary>
    /// Whether the user has plays the serving model has not seen (answers then bypass the response
    /// cache). On every /ml request: a lock-free lookup (IsEmpty would take every bucket lock while empty).
    /// </summary>
    public bool Has(long userId) => _users.ContainsKey(userId);

    public LiveUser? Find(long userId) => _users.TryGetValue(userId, out var user) ? user : null;

    /// <summary>Stored events (sequence 0: a duplicate, skipped; −1: stored unnumbered); only qualified plays change anything.</summary>
    public void Record(IReadOnlyList<PlayEvent> events, IReadOnlyList<long> sequences)
    {
        var plays = new List<(long UserId, long TrackId, long Sequence)>(events.Count);
        for (int i = 0; i < events.Count; i++)
        {
            if (sequences[i] > 0 && events[i].Qualifies) plays.Add((events[i].UserId, events[i].TrackId, sequences[i]));
        }
        Record(plays);
    }

    /// <summary>Qualified plays stored here or by another replica, with their sequence numbers; returns how many were new here.</summary>
    public int Record(IReadOnlyList<(long UserId, long TrackId, long Sequence)> plays)
    {
        int recorded = 0;
        lock (_write)
        {
            var serving = _host.Current;
            var popularity = Popularity(serving);
            foreach (var (userId, trackId, sequence) in plays)
            {
                // Another replica's play read after a model that saw it was swapped in: nothing to add.
                if (sequence <= _heldAbove) continue;
                var (added, first) = _users.GetOrAdd(userId, static id => new LiveUser(id)).Add(trackId, sequence);
                // Read twice (a rollback's replay, then the feed): counted once.
                if (!added) continue;
                recorded++;
                if (first && popularity is not null) CountListener(popularity, userId, trackId);
                if (serving is not null) _newTracks.Count(serving, userId, trackId);
            }
            if (serving is not null) _newTracks.FoldSoon(serving, _write);
        }
        return recorded;
    }

    /// <summary>
    /// The live inputs of a user's answer on <paramref name="serving"/>, or null when they have no play
    /// the model has not seen. Computed once per model and per change of their plays: the fold-in is an
    /// exact k × k solve over all their tracks (model row and live plays), as implicit's recalculate_user.
    /// </summary>
    public LiveAnswer? Answer(ServingModel serving, LiveUser user)
    {
        if (user.Cached(serving) is { } cached) return cached;
        var (plays, version) = user.After(Through(serving));
        if (plays.Count == 0) return null;
        var model = serving.Model;
        int row = model.UserIndex.IndexOf(user.Id);
        var weights = new Dictionary<int, float>();
        int tracks = 0;
        if (row >= 0 && model.UserItems is { } items)
        {
            var indices = items.RowIndices(row);
            var values = items.RowValues(row);
            for (int n = 0; n < indices.Length; n++) weights[indices[n]] = values[n];
            tracks = indices.Length;
        }
        var elsewhere = new HashSet<long>();
        foreach (var (track, count) in plays)
        {
            int item = model.TrackIndex.IndexOf(track);
            if (item < 0)
            {
                tracks++;
                elsewhere.Add(track);
                continue;
            }
            if (!weights.ContainsKey(item)) tracks++;
            weights[item] = weights.GetValueOrDefault(item) + count;
        }
        int[] heard = [.. weights.Keys];
        float[] w = [.. weights.Values];
        var vector = heard.Length > 0 ? serving.Recommender.FoldIn(heard, w) : [];
        Array.Sort(heard);
        var answer = new LiveAnswer(serving, version, vector, heard, tracks, row >= 0, elsewhere);
        user.Keep(answer);
        return answer;
    }

    /// <summary>The popularity answer with events counted, or null when the model's own is current.</summary>
    public ScoredIndex[]? Popular(ServingModel serving, int k) =>
        _popularity is { } p && ReferenceEquals(p.Model, serving) ? p.Top(k) : null;

    private LivePopularity? Popularity(ServingModel? serving)
    {
        if (serving is null) return null;
        var p = _popularity;
        return p is not null && ReferenceEquals(p.Model, serving) ? p : null;
    }

    /// <summary>A new listener of the track unless the model already counted this user for it.</summary>
    private static void CountListener(LivePopularity popularity, long userId, long trackId)
    {
        var model = popularity.Model.Model;
        int item = model.TrackIndex.IndexOf(trackId);
        if (item < 0) return;
        int row = model.UserIndex.IndexOf(userId);
        if (row >= 0 && model.UserItems is { } items && items.RowIndices(row).BinarySearch(item) >= 0) return;
        popularity.Add(item);
    }

    /// <summary>
    /// A new model: plays it was trained on are forgotten, and its popularity counts are rebuilt from
    /// the plays left (in the background; until then the model's own popularity answers).
    /// </summary>
    private void OnSwapped(ServingModel serving)
    {
        _ = Task.Run(async () =>
        {
            // A replay from the database can fail part-way; it is tried again (a play replayed twice is held once).
            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    lock (_write) Rebase(serving);
                    return;
                }
                catch (Exception e) when (attempt < 5)
                {
                    _log.LogWarning("live plays could not be rebased on model {Version} ({Message}); trying again", serving.Version, e.Message);
                    await Task.Delay(TimeSpan.FromSeconds(attempt));
                }
                catch (Exception e)
                {
                    _log.LogError(e, "live plays could not be rebased on model {Version}; the next swap rebases again", serving.Version);
                    return;
                }
            }
        });
    }

    private void Rebase(ServingModel serving)
    {
        // Swaps close together rebase in any order: only the model serving now counts.
        if (!ReferenceEquals(_host.Current, serving)) return;
        long through = Through(serving);
        int pruned = 0, replayed = 0;
        if (through > _heldAbove)
        {
            foreach (var (id, user) in _users)
            {
                if (user.Prune(through) == 0 && _users.TryRemove(new KeyValuePair<long, LiveUser>(id, user))) pruned++;
            }
            _heldAbove = through;
        }
        else if (through < _heldAbove && StoredAfter is { } stored)
        {
            // A model that saw fewer events than were pruned: what it lacks comes back from the store.
            long until = _heldAbove;
            foreach (var (userId, trackId, sequence) in stored(through).TakeWhile(r => r.Sequence <= until))
            {
                if (_users.GetOrAdd(userId, static id => new LiveUser(id)).Add(trackId, sequence).Added) replayed++;
            }
            _heldAbove = through;
        }
        Recount(serving, through);
        if (pruned > 0 || replayed > 0)
        {
            _log.LogInformation("model {Version}: {Pruned} listeners' live plays are in it now, {Replayed} plays it lacks replayed from the store", serving.Version, pruned, replayed);
        }
    }

    /// <summary>Popularity and new tracks counted anew for <paramref name="serving"/> from the plays held after <paramref name="through"/>.</summary>
    private void Recount(ServingModel serving, long through)
    {
        var popularity = new LivePopularity(serving);
        var unseen = new List<(long, long, int)>();
        foreach (var (id, user) in _users)
        {
            foreach (var (track, plays) in user.After(through).Plays)
            {
                CountListener(popularity, id, track);
                unseen.Add((id, track, plays));
            }
        }
        _popularity = popularity;
        _newTracks.Reset(serving, unseen);
        _newTracks.FoldSoon(serving, _write);
    }
}
