using RecSys.Engine.Ann;

namespace RecSys.Engine.Als;

/// <summary>The trained factor matrices (row-major, <see cref="Factors"/> wide) and how training went.</summary>
public sealed record AlsFactors(
    int Factors,
    float[] UserFactors,
    float[] ItemFactors,
    double TrainSeconds,
    IReadOnlyList<double> IterationSeconds,
    IReadOnlyList<double> Losses)
{
    public int Users => UserFactors.Length / Factors;
    public int Items => ItemFactors.Length / Factors;

    /// <summary>A user's k best items by dot product, excluding the given items (comparisons between trainers, quick checks).</summary>
    public int[] TopItems(int user, int k, ReadOnlySpan<int> exclude)
    {
        var scores = new float[Items];
        Compute.Kernels.MatVec(ItemFactors, Factors, UserFactors.AsSpan(user * Factors, Factors), scores);
        foreach (int i in exclude) scores[i] = float.NegativeInfinity;
        var heap = new Ann.TopK(Math.Min(k, Items));
        heap.PushAll(scores);
        return heap.Drain().Select(r => r.Index).ToArray();
    }

    /// <summary>Median seconds per iteration (robust against a slow first iteration while the JIT warms up).</summary>
    public double SecondsPerIteration
    {
        get
        {
            if (IterationSeconds.Count == 0) return 0;
            var s = IterationSeconds.Order().ToArray();
            return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
        }
    }
}
