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
