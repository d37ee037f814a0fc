using RecSys.Engine.Ann;
using RecSys.Engine.Recommend;

namespace RecSys.Server.Events;

/// <summary>
/// What a live user's answers are made of for one model: the factors folded in from their model row
/// plus live plays, the tracks they have heard (never recommended), and how many distinct tracks that
/// is (for the cold-start rule).
/// </summary>
/// <param name="HeardElsewhere">Tracks they played that the model does not have (never recommended to them either).</param>
public sealed record LiveAnswer(object Model, int Version, float[] Vector, int[] Heard, int Tracks, bool Known, IReadOnlySet<long> HeardElsewhere)
{
    private volatile Ranking? _ranking;

    private sealed record Ranking(int Limit, ScoredIndex[] Ranked);

    /// <summary>
    /// The model's top <paramref name="limit"/> for these inputs, computed once per limit asked last:
    /// between two plays a listener's answers repeat, and without this each was a full scan (the
    /// response cache is bypassed for live users).
    /// </summary>
    public ScoredIndex[] Ranked(int limit, Func<int, ScoredIndex[]> compute)
    {
        if (_ranking is { } r && r.Limit == limit) return r.Ranked;
        var ranked = compute(limit);
        _ranking = new Ranking(limit, ranked);
        return ranked;
    }
}
