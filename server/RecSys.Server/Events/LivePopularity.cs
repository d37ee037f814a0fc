using RecSys.Engine.Ann;
using RecSys.Engine.Recommend;
using RecSys.Server.Hosting;

namespace RecSys.Server.Events;

/// <summary>
/// The popularity answer of one model with events added: each new (listener, track) pair since the
/// model's training counts one more listener, as the model's own counts are listeners. The ranking is
/// rebuilt in the background at most once a second while events arrive, so a request never sorts.
/// </summary>
public sealed class LivePopularity(ServingModel model)
{
    private static readonly long RebuildEveryMs = 1000;

    private readonly float[] _added = new float[model.Model.ItemCount];
    private volatile ScoredIndex[]? _ranking;
    private int _changed;
    private int _building;
    private long _builtAt = long.MinValue / 2;

    public ServingModel Model => model;

    /// <summary>One more listener of <paramref name="item"/> (the event writer's thread only).</summary>
    public void Add(int item)
    {
        _added[item]++;
        Volatile.Write(ref _changed, 1);
    }

    /// <summary>The k most popular items with events counted; null until a ranking with events is built (then the model's own answers).</summary>
    public ScoredIndex[]? Top(int k)
    {
        if (Volatile.Read(ref _changed) == 1 && Environment.TickCount64 - Volatile.Read(ref _builtAt) >= RebuildEveryMs && Interlocked.Exchange(ref _building, 1) == 0)
        {
            _ = Task.Run(Rebuild);
        }
        var ranking = _ranking;
        if (ranking is null) return null;
        return ranking.AsSpan(0, Math.Min(k, ranking.Length)).ToArray();
    }

    private void Rebuild()
    {
        try
        {
            Volatile.Write(ref _builtAt, Environment.TickCount64);
            Volatile.Write(ref _changed, 0);
            var popularity = model.Model.ItemPopularity;
            var scores = new float[_added.Length];
            for (int i = 0; i < scores.Length; i++) scores[i] = (popularity?[i] ?? 0) + Volatile.Read(ref _added[i]);
            int[] order = Enumerable.Range(0, scores.Length).ToArray();
            // Most popular first; ties by index, as the model's own ranking.
            Array.Sort(order, (a, b) => scores[b] != scores[a] ? scores[b].CompareTo(scores[a]) : a.CompareTo(b));
            // Only the top is ever asked for (limits are at most MaxLimit).
            int keep = Math.Min(order.Length, 100_000);
            var ranking = new ScoredIndex[keep];
            for (int i = 0; i < keep; i++) ranking[i] = new ScoredIndex(order[i], scores[order[i]]);
            _ranking = ranking;
        }
        finally
        {
            Volatile.Write(ref _building, 0);
        }
    }
}
