using System.Collections.Concurrent;
using RecSys.Engine.Events;
using RecSys.Engine.Recommend;
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
    private readonly ServerOptions _options;
    private readonly ResponseCacheClearer _clearCache;
    private readonly ILogger<LivePlays> _log;
    private volatile LivePopularity? _popularity;
    private volatile LiveTracks _tracks = LiveTracks.None;

    /// <summary>Listeners known to the model (user row → qualified plays) of each track the model does not have; under <see cref="_write"/>.</summary>
    private readonly Dictionary<long, Dictionary<int, int>> _newTrackListeners = [];
    private readonly HashSet<long> _tracksToFold = [];
    private int _folding;

    /// <summary>Held by the event writer while it records, and by the clean-up after a swap, so no play slips between them.</summary>
    private readonly object _write = new();

    public LivePlays(ModelHost host, ServerOptions options, ResponseCacheClearer clearCache, ILogger<LivePlays> log)
    {
        _host = host;
        _options = options;
        _clearCache = clearCache;
        _log = log;
        host.Swapped += OnSwapped;
    }

    /// <summary>Tracks played since training that have factors now (for the serving model; empty for another).</summary>
    public LiveTracks Tracks(ServingModel serving) => ReferenceEquals(_tracks.Model, serving) ? _tracks : LiveTracks.None;

    /// <summary>The event store's epoch (set when it opens): sequence numbers of other epochs mean nothing here.</summary>
    public string? Epoch { get; set; }

    public int Users => _users.Count;

    /// <summary>The newest event a model was trained on, in this epoch's numbers (0: none, or not this epoch's).</summary>
    public long Through(ServingModel model) =>
        model.Manifest is { EventsEpoch: { } epoch, EventsThrough: var through } && epoch == Epoch ? through : 0;

    /// <summary>Whether the user has plays the serving model has not seen (answers then bypass the response cache).</summary>
    public bool Has(long userId) => !_users.IsEmpty && _users.ContainsKey(userId);

    public LiveUser? Find(long userId) => _users.TryGetValue(userId, out var user) ? user : null;

    /// <summary>Stored events (sequence 0: a duplicate, skipped); only qualified plays change anything. The event writer's thread only.</summary>
    public void Record(IReadOnlyList<PlayEvent> events, IReadOnlyList<long> sequences)
    {
        lock (_write) RecordLocked(events, sequences);
    }

    private void RecordLocked(IReadOnlyList<PlayEvent> events, IReadOnlyList<long> sequences)
    {
        var serving = _host.Current;
        var popularity = Popularity(serving);
        for (int i = 0; i < events.Count; i++)
        {
            var e = events[i];
            if (sequences[i] == 0 || !e.Qualifies) continue;
            var user = _users.GetOrAdd(e.UserId, static id => new LiveUser(id));
            if (user.Add(e.TrackId, sequences[i]) && popularity is not null) CountListener(popularity, e.UserId, e.TrackId);
            if (serving is not null) CountNewTrackListener(serving, e.UserId, e.TrackId);
        }
        if (_tracksToFold.Count > 0 && serving is not null) FoldSoon(serving);
    }

    /// <summary>A play of a track the model lacks by a user it knows: once enough such listeners, the track gets factors.</summary>
    private void CountNewTrackListener(ServingModel serving, long userId, long trackId)
    {
        var model = serving.Model;
        if (model.TrackIndex.IndexOf(trackId) >= 0) return;
        int row = model.UserIndex.IndexOf(userId);
        if (row < 0) return;
        if (!_newTrackListeners.TryGetValue(trackId, out var listeners)) _newTrackListeners[trackId] = listeners = [];
        listeners[row] = listeners.GetValueOrDefault(row) + 1;
        if (listeners.Count >= _options.Events.NewTrackListeners) _tracksToFold.Add(trackId);
    }

    /// <summary>
    /// Folds in the tracks that got listeners, off the event writer's thread (the first one builds the
    /// users' Gram matrix: O(users·k²)), and publishes them with the others; cached answers are dropped,
    /// as a new track may now outrank what they hold.
    /// </summary>
    private void FoldSoon(ServingModel serving)
    {
        if (Interlocked.Exchange(ref _folding, 1) == 1) return;
        _ = Task.Run(() =>
        {
            try
            {
                while (true)
                {
                    List<(long Track, int[] Rows, float[] Plays)> work;
                    lock (_write)
                    {
                        if (_tracksToFold.Count == 0 || !ReferenceEquals(_host.Current, serving)) return;
                        work = _tracksToFold.Select(t => (t, _newTrackListeners[t].Keys.ToArray(), _newTrackListeners[t].Values.Select(v => (float)v).ToArray())).ToList();
                        _tracksToFold.Clear();
                    }
                    var current = Tracks(serving);
                    var ids = current.TrackIds.ToList();
                    var vectors = current.Vectors.ToList();
                    var listeners = current.Listeners.ToList();
                    int k = serving.Model.Factors;
                    foreach (var (track, rows, plays) in work)
                    {
                        float[] vector = serving.Recommender.FoldInItem(rows, plays);
                        if (current.TryFind(track, out int at))
                        {
                            for (int f = 0; f < k; f++) vectors[at * k + f] = vector[f];
                            listeners[at] = rows.Length;
                        }
                        else
                        {
                            ids.Add(track);
                            vectors.AddRange(vector);
                            listeners.Add(rows.Length);
                        }
                    }
                    _tracks = new LiveTracks(serving, [.. ids], [.. vectors], [.. listeners], k);
                    _clearCache.Clear();
                    _log.LogInformation("{Count} tracks not in model {Version} have factors from their listeners now", ids.Count, serving.Version);
                }
            }
            catch (Exception e)
            {
                _log.LogError(e, "folding in new tracks failed");
            }
            finally
            {
                Volatile.Write(ref _folding, 0);
            }
        });
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
        _ = Task.Run(() =>
        {
            lock (_write) Rebase(serving);
        });
    }

    private void Rebase(ServingModel serving)
    {
        long through = Through(serving);
        int pruned = 0;
        foreach (var (id, user) in _users)
        {
            if (user.Prune(through) == 0 && _users.TryRemove(new KeyValuePair<long, LiveUser>(id, user))) pruned++;
        }
        var popularity = new LivePopularity(serving);
        _newTrackListeners.Clear();
        _tracksToFold.Clear();
        foreach (var (id, user) in _users)
        {
            foreach (var (track, plays) in user.After(through).Plays)
            {
                CountListener(popularity, id, track);
                for (int n = 0; n < plays; n++) CountNewTrackListener(serving, id, track);
            }
        }
        _popularity = popularity;
        _tracks = new LiveTracks(serving, [], [], [], serving.Model.Factors);
        if (_tracksToFold.Count > 0) FoldSoon(serving);
        if (pruned > 0) _log.LogInformation("{Count} listeners' live plays are in model {Version} now", pruned, serving.Version);
    }
}
