using RecSys.Engine.Ann;
using RecSys.Engine.Recommend;
using RecSys.Server.Hosting;

namespace RecSys.Server.Events;

/// <summary>
/// Tracks not in a model that have been played enough since its training to get factors by fold-in
/// from their listeners: an immutable set, replaced whole when a track joins or its factors change.
/// Answers merge them in (exact scans: they are few), so such a track can be recommended and have
/// similar tracks before the next training. Shown at /model as live_tracks.
/// </summary>
public sealed class LiveTracks
{
    public static readonly LiveTracks None = new(null, [], [], [], 1);

    private readonly Dictionary<long, int> _index;
    private readonly ExactRetriever? _dot;
    private readonly ExactRetriever? _cosine;

    public LiveTracks(ServingModel? model, long[] trackIds, float[] vectors, int[] listeners, int factors)
    {
        Model = model;
        TrackIds = trackIds;
        Vectors = vectors;
        Listeners = listeners;
        Factors = factors;
        _index = trackIds.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i);
        if (trackIds.Length > 0)
        {
            _dot = new ExactRetriever(vectors, factors, RetrievalMetric.InnerProduct);
            _cosine = new ExactRetriever(vectors, factors, RetrievalMetric.Cosine);
        }
    }

    public ServingModel? Model { get; }
    public long[] TrackIds { get; }
    public float[] Vectors { get; }
    public int Factors { get; }

    /// <summary>How many listeners each track's factors were folded in from.</summary>
    public int[] Listeners { get; }

    public int Count => TrackIds.Length;

    public bool TryFind(long trackId, out int index) => _index.TryGetValue(trackId, out index);

    public ReadOnlySpan<float> Vector(int index) => Vectors.AsSpan(index * Factors, Factors);

    /// <summary>
    /// The top <paramref name="k"/> of a model answer and these tracks together (scored the same way: dot
    /// for a user, cosine for a track), or null when none of these tracks makes it in (then the model
    /// answer stands as it is). <paramref name="skip"/>: these tracks the user has heard, or the query track.
    /// </summary>
    public (long TrackId, float Score)[]? Merge(ScoredIndex[] ranked, long[] modelTrackIds, ReadOnlySpan<float> query, bool cosine, int k, IReadOnlySet<long>? skip)
    {
        var retriever = cosine ? _cosine : _dot;
        if (retriever is null || k <= 0) return null;
        int[] excluded = skip is null ? [] : TrackIds.Select((id, i) => skip.Contains(id) ? i : -1).Where(i => i >= 0).ToArray();
        var extra = retriever.Search(query, k, excluded);
        float cut = ranked.Length >= k ? ranked[^1].Score : float.NegativeInfinity;
        if (!extra.Any(e => e.Score > cut && !float.IsNegativeInfinity(e.Score))) return null;
        return ranked.Select(r => (modelTrackIds[r.Index], r.Score))
            .Concat(extra.Where(e => !float.IsNegativeInfinity(e.Score)).Select(e => (TrackIds[e.Index], e.Score)))
            .OrderByDescending(p => p.Item2).ThenBy(p => p.Item1).Take(k).ToArray();
    }
}
