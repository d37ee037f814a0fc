using RecSys.Server.Configuration;
using RecSys.Server.Hosting;

namespace RecSys.Server.Events;

/// <summary>
/// Tracks the serving model does not have: their listeners since its training, and, once
/// <see cref="EventOptions.NewTrackListeners"/> of those are users the model knows, factors by fold-in
/// from those users' factors (the item step of training), published as <see cref="LiveTracks"/>. A
/// track is folded again when its known listeners have doubled since, so a popular release does not
/// refold (and empty the response cache) on every play. Listeners are kept by user id, not by model
/// row, so a swap cannot mix two models' rows. Callers hold <see cref="LivePlays"/>' write lock.
/// </summary>
internal sealed class NewTrackFolding(ModelHost host, EventOptions options, ILogger log)
{
    private sealed class Listeners
    {
        public Dictionary<long, int> Plays { get; } = [];
        public int Known { get; set; }
        public int KnownAtFold { get; set; }
    }

    private readonly Dictionary<long, Listeners> _tracks = [];
    private readonly HashSet<long> _pending = [];
    private volatile LiveTracks _published = LiveTracks.None;
    private int _folding;

    /// <summary>Raised after new factors are published (answers cached before may now be outranked).</summary>
    public event Action? Changed;

    public LiveTracks For(ServingModel serving) => ReferenceEquals(_published.Model, serving) ? _published : LiveTracks.None;

    /// <summary>A qualified play; true when a track became due for folding.</summary>
    public void Count(ServingModel serving, long userId, long trackId, int plays = 1)
    {
        var model = serving.Model;
        if (model.TrackIndex.IndexOf(trackId) >= 0) return;
        if (!_tracks.TryGetValue(trackId, out var listeners)) _tracks[trackId] = listeners = new Listeners();
        bool first = !listeners.Plays.ContainsKey(userId);
        listeners.Plays[userId] = listeners.Plays.GetValueOrDefault(userId) + plays;
        if (first && model.UserIndex.IndexOf(userId) >= 0) listeners.Known++;
        if (listeners.Known >= options.NewTrackListeners && listeners.Known >= 2 * listeners.KnownAtFold) _pending.Add(trackId);
    }

    /// <summary>A new model: counts start over from the plays it has not seen (<paramref name="plays"/>).</summary>
    public void Reset(ServingModel serving, IEnumerable<(long User, long Track, int Plays)> plays)
    {
        _tracks.Clear();
        _pending.Clear();
        _published = new LiveTracks(serving, [], [], [], serving.Model.Factors);
        foreach (var (user, track, count) in plays) Count(serving, user, track, count);
    }

    /// <summary>Folds the due tracks in the background (the first builds the users' Gram matrix, O(users·k²)); <paramref name="gate"/> is the write lock.</summary>
    public void FoldSoon(ServingModel serving, object gate)
    {
        if (_pending.Count == 0 || Interlocked.Exchange(ref _folding, 1) == 1) return;
        _ = Task.Run(() =>
        {
            try
            {
                while (Fold(serving, gate))
                {
                }
            }
            catch (Exception e)
            {
                log.LogError(e, "folding in tracks played since training failed");
            }
            finally
            {
                Volatile.Write(ref _folding, 0);
            }
        });
    }

    /// <summary>One round: the due tracks' factors computed outside the lock, published under it; false when nothing was due.</summary>
    private bool Fold(ServingModel serving, object gate)
    {
        List<(long Track, int[] Rows, float[] Plays)> work;
        lock (gate)
        {
            if (_pending.Count == 0 || !ReferenceEquals(host.Current, serving)) return false;
            var model = serving.Model;
            work = [];
            foreach (long track in _pending)
            {
                var known = _tracks[track].Plays.Select(p => (Row: model.UserIndex.IndexOf(p.Key), Plays: (float)p.Value)).Where(p => p.Row >= 0).ToArray();
                _tracks[track].KnownAtFold = known.Length;
                work.Add((track, known.Select(k => k.Row).ToArray(), known.Select(k => k.Plays).ToArray()));
            }
            _pending.Clear();
        }
        var folded = work.Select(w => (w.Track, Vector: serving.Recommender.FoldInItem(w.Rows, w.Plays), Listeners: w.Rows.Length)).ToList();
        lock (gate)
        {
            if (!ReferenceEquals(host.Current, serving)) return false;
            var current = For(serving);
            int k = serving.Model.Factors;
            var ids = current.TrackIds.ToList();
            var vectors = current.Vectors.ToList();
            var listeners = current.Listeners.ToList();
            foreach (var (track, vector, count) in folded)
            {
                if (current.TryFind(track, out int at))
                {
                    vector.CopyTo(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(vectors).Slice(at * k, k));
                    listeners[at] = count;
                }
                else
                {
                    ids.Add(track);
                    vectors.AddRange(vector);
                    listeners.Add(count);
                }
            }
            _published = new LiveTracks(serving, [.. ids], [.. vectors], [.. listeners], k);
        }
        Changed?.Invoke();
        log.LogInformation("{Count} tracks not in model {Version} have factors from their listeners now", folded.Count, serving.Version);
        return true;
    }
}
