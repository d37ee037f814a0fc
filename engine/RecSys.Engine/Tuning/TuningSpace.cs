using RecSys.Engine.Als;
using RecSys.Engine.Data;
using RecSys.Engine.Sparse;

namespace RecSys.Engine.Tuning;

/// <summary>
/// Where self-tuning looks: continuous settings drawn log-uniformly over ranges wide enough for data
/// unlike the shared sets, seeded. Each draw keeps what the search does not vary (iterations, seed,
/// threads, solver) from the starting settings.
/// </summary>
public static class TuningSpace
{
    private static readonly int[] Factors = [32, 64, 128];
    private static readonly ConfidenceScaling[] Scalings = [ConfidenceScaling.Linear, ConfidenceScaling.Log, ConfidenceScaling.Binary];

    /// <summary>The starting settings first (a tuning that cannot beat them adopts them), then <paramref name="count"/> − 1 distinct draws.</summary>
    public static List<AlsOptions> Candidates(AlsOptions start, int count, ulong seed)
    {
        var list = new List<AlsOptions> { start };
        var rng = new SplitMix(seed, 0x5E1F);
        for (int attempts = 0; list.Count < count && attempts < count * 50; attempts++)
        {
            var candidate = Draw(start, ref rng);
            if (!list.Contains(candidate)) list.Add(candidate);
        }
        return list;
    }

    private static AlsOptions Draw(AlsOptions start, ref SplitMix rng)
    {
        // BM25 values run to hundreds, so BM25 takes alpha from a smaller range.
        bool bm25 = rng.NextDouble() < 0.5;
        float alpha = bm25 ? LogUniform(ref rng, 0.005, 0.5) : LogUniform(ref rng, 0.5, 50);
        var scaling = bm25 ? ConfidenceScaling.Linear : Scalings[rng.NextInt(Scalings.Length)];
        // Half the draws scale λ with a row's interactions (Rendle et al. 2022); then λ·(n + 1)^ν is
        // already large for long rows, so λ itself comes from a lower range.
        float exponent = rng.NextDouble() < 0.5 ? 0f : (rng.NextDouble() < 0.5 ? 0.5f : 1f);
        float lambda = exponent == 0 ? LogUniform(ref rng, 0.01, 200) : LogUniform(ref rng, 0.001, 3);
        float unobserved = rng.NextDouble() < 0.5 ? 1f : LogUniform(ref rng, 0.05, 1);
        // BM25's saturation and length normalisation, around implicit's K1 100 and B 0.8.
        float k1 = bm25 ? LogUniform(ref rng, 1, 1000) : start.Bm25K1;
        float b = bm25 ? (float)Math.Round(0.2 + 0.8 * rng.NextDouble(), 2) : start.Bm25B;
        return start with
        {
            Factors = Factors[rng.NextInt(Factors.Length)],
            Bm25 = bm25,
            Bm25K1 = k1,
            Bm25B = b,
            Alpha = alpha,
            Scaling = scaling,
            Regularization = lambda,
            RegularizationExponent = exponent,
            RegularizationOffset = 1,
            UnobservedWeight = unobserved,
        };
    }

    /// <summary>
    /// A setting near <paramref name="center"/>: each continuous setting it uses (α, λ, α₀ below 1, BM25's
    /// K1) times e^(0.5·N(0,1)), B moved by N(0, 0.1), each kept inside the space's range; the discrete
    /// choices (factors, BM25, scaling, ν) stay.
    /// </summary>
    public static AlsOptions Neighbour(AlsOptions center, ref SplitMix rng)
    {
        float Step(ref SplitMix r, float value, double low, double high) =>
            Round(Math.Clamp(value * Math.Exp(0.5 * r.NextGaussian()), low, high));
        bool bm25 = center.Bm25;
        float alpha = bm25 ? Step(ref rng, center.Alpha, 0.005, 0.5) : Step(ref rng, center.Alpha, 0.5, 50);
        float lambda = center.RegularizationExponent == 0 ? Step(ref rng, center.Regularization, 0.01, 200) : Step(ref rng, center.Regularization, 0.001, 3);
        float unobserved = center.UnobservedWeight < 1 ? Step(ref rng, center.UnobservedWeight, 0.05, 1) : 1f;
        float k1 = bm25 ? Step(ref rng, center.Bm25K1, 1, 1000) : center.Bm25K1;
        float b = bm25 ? (float)Math.Round(Math.Clamp(center.Bm25B + 0.1 * rng.NextGaussian(), 0.2, 1.0), 2) : center.Bm25B;
        return center with { Alpha = alpha, Regularization = lambda, UnobservedWeight = unobserved, Bm25K1 = k1, Bm25B = b };
    }

    /// <summary>A value whose logarithm is uniform in [log low, log high], rounded to 3 significant digits (readable settings).</summary>
    private static float LogUniform(ref SplitMix rng, double low, double high)
    {
        return Round(Math.Exp(Math.Log(low) + rng.NextDouble() * (Math.Log(high) - Math.Log(low))));
    }

    /// <summary>Three significant digits: readable settings.</summary>
    private static float Round(double value)
    {
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(value)) - 2);
        return (float)(Math.Round(value / magnitude) * magnitude);
    }
}
