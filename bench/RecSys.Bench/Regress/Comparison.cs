namespace RecSys.Bench.Regress;

/// <summary>Which way a metric gets better.</summary>
public enum Better { Lower, Higher }

/// <summary>
/// A measured quantity: times get better lower with a relative threshold (5 %: smaller moves are noise
/// or do not matter); recall and NDCG get better higher with an absolute one (0.005) and are
/// deterministic for a seed, so one look decides them.
/// </summary>
public sealed record MetricSpec(string Name, string Unit, Better Better, double Threshold, bool Relative, bool Deterministic = false)
{
    public static MetricSpec Time(string name, string unit = "ns") => new(name, unit, Better.Lower, 0.05, Relative: true);
    public static MetricSpec Rate(string name, string unit) => new(name, unit, Better.Higher, 0.05, Relative: true);
    public static MetricSpec Quality(string name) => new(name, "", Better.Higher, 0.005, Relative: false, Deterministic: true);

    /// <summary>A value moved by the threshold in the worse direction (<paramref name="sign"/> 1) or the better (−1).</summary>
    public double Shift(double value, int sign)
    {
        double toWorse = Better == Better.Lower ? 1 : -1;
        return Relative ? value * (1 + sign * toWorse * Threshold) : value + sign * toWorse * Threshold;
    }
}

public enum Verdict { Same, Regression, Improvement }

/// <summary>
/// Baseline (A) against candidate (B) for one metric. Deterministic metrics (quality and recall)
/// compare their medians exactly against the threshold; <see cref="Varied"/> says when a side's values
/// moved between runs after all, which is itself a finding (a seed no longer fixes the result). Others follow
/// dotnet/performance's ResultsComparer: B is a regression when a one-sided Mann–Whitney U test finds it
/// worse than A moved by the threshold (so a shift smaller than the threshold is never a verdict, however
/// certain), at α = 0.05; an improvement likewise, on the other side. The ratio of medians and a seeded bootstrap 95 %
/// interval of it are reported beside the verdict.
/// </summary>
public sealed record Comparison(MetricSpec Metric, double[] A, double[] B, double MedianA, double MedianB, double Ratio,
    double RatioLow, double RatioHigh, double? P, Verdict Verdict)
{
    public bool Varied => Metric.Deterministic && (A.Distinct().Count() > 1 || B.Distinct().Count() > 1);

    public const double Alpha = 0.05;

    public static Comparison Of(MetricSpec metric, IReadOnlyList<double> a, IReadOnlyList<double> b, ulong seed = 42)
    {
        if (a.Count == 0 || b.Count == 0) throw new ArgumentException($"{metric.Name}: no samples on one side");
        double medianA = Median(a), medianB = Median(b);
        double ratio = medianB / medianA;
        if (metric.Deterministic)
        {
            var exactVerdict = Worse(metric, medianB, metric.Shift(medianA, 1)) ? Verdict.Regression
                : Worse(metric, metric.Shift(medianA, -1), medianB) ? Verdict.Improvement : Verdict.Same;
            return new Comparison(metric, [.. a], [.. b], medianA, medianB, ratio, ratio, ratio, null, exactVerdict);
        }
        var (low, high) = BootstrapRatio(a, b, seed);
        // One-sided: "is B worse than A moved by the threshold?" is a question with a direction, so the
        // test puts all of α on that side (a two-sided test at the same α would need more runs to say it).
        var worse = MannWhitney.Test(b, [.. a.Select(v => metric.Shift(v, 1))]);
        var better = MannWhitney.Test(b, [.. a.Select(v => metric.Shift(v, -1))]);
        double pWorse = metric.Better == Better.Lower ? worse.PGreater : worse.PLess;
        double pBetter = metric.Better == Better.Lower ? better.PLess : better.PGreater;
        var verdict = pWorse < Alpha ? Verdict.Regression : pBetter < Alpha ? Verdict.Improvement : Verdict.Same;
        // Beside "same", the plain two-sided test of any difference at all (no threshold).
        double p = verdict == Verdict.Regression ? pWorse : verdict == Verdict.Improvement ? pBetter : MannWhitney.Test(b, a).P;
        return new Comparison(metric, [.. a], [.. b], medianA, medianB, ratio, low, high, p, verdict);
    }

    /// <summary>Whether <paramref name="x"/> is worse than <paramref name="than"/> for this metric.</summary>
    private static bool Worse(MetricSpec metric, double x, double than) => metric.Better == Better.Lower ? x > than : x < than;

    public static double Median(IReadOnlyList<double> values)
    {
        var s = values.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    /// <summary>2.5th and 97.5th percentiles of median(B*)/median(A*) over 2,000 seeded resamples of each side.</summary>
    internal static (double Low, double High) BootstrapRatio(IReadOnlyList<double> a, IReadOnlyList<double> b, ulong seed)
    {
        const int resamples = 2000;
        var rng = new RecSys.Engine.Data.SplitMix(seed);
        var ratios = new double[resamples];
        var sa = new double[a.Count];
        var sb = new double[b.Count];
        for (int r = 0; r < resamples; r++)
        {
            for (int i = 0; i < sa.Length; i++) sa[i] = a[rng.NextInt(a.Count)];
            for (int i = 0; i < sb.Length; i++) sb[i] = b[rng.NextInt(b.Count)];
            ratios[r] = Median(sb) / Median(sa);
        }
        Array.Sort(ratios);
        return (ratios[(int)(0.025 * resamples)], ratios[(int)(0.975 * resamples) - 1]);
    }
}
