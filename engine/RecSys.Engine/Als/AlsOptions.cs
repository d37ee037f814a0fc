using RecSys.Engine.Sparse;

namespace RecSys.Engine.Als;

/// <summary>Which exact method solves each row's least-squares problem.</summary>
public enum AlsSolver
{
    /// <summary>A few conjugate-gradient steps warm-started from the previous factors (Takács et al. 2011).</summary>
    ConjugateGradient,
    /// <summary>Form YᵀCᵤY + λI and solve exactly by Cholesky: O(K²·nnz + K³·rows), the reference.</summary>
    Cholesky,
}

/// <summary>
/// Training options. Defaults are what <c>recsys tune</c> chose on a validation split of the Last.fm
/// listening data (docs/tuning.md): BM25-weighted counts, small alpha, strong regularization. The
/// original design's settings are <c>--bm25 false --alpha 3 --scaling linear --regularization 0.01</c>.
/// </summary>
public sealed record AlsOptions
{
    public int Factors { get; init; } = 64;
    public int Iterations { get; init; } = 15;
    public float Regularization { get; init; } = 50f;
    public float Alpha { get; init; } = 0.05f;
    public ConfidenceScaling Scaling { get; init; } = ConfidenceScaling.Linear;
    public bool Bm25 { get; init; } = true;
    public int CgSteps { get; init; } = 3;
    public AlsSolver Solver { get; init; } = AlsSolver.ConjugateGradient;
    public ulong Seed { get; init; } = 42;

    /// <summary>Worker threads; 0 means all cores.</summary>
    public int Threads { get; init; }

    /// <summary>Initial factors are uniform in [0, InitScale) (implicit's 0.01 scale).</summary>
    public float InitScale { get; init; } = 0.01f;

    /// <summary>
    /// ν of frequency-scaled regularization: a row with n interactions gets λ·(n + RegularizationOffset)^ν
    /// (Rendle et al. 2022). 0 (the default): the same λ for every row.
    /// </summary>
    public float RegularizationExponent { get; init; }

    /// <summary>The offset added to a row's interaction count before the exponent (so an empty row keeps some λ).</summary>
    public float RegularizationOffset { get; init; } = 1f;

    /// <summary>BM25's K1 (saturation of a listener's count of one track; implicit's 100), with <see cref="Bm25"/>.</summary>
    public float Bm25K1 { get; init; } = 100f;

    /// <summary>BM25's B (how much a listener's total plays normalise each count; implicit's 0.8), with <see cref="Bm25"/>.</summary>
    public float Bm25B { get; init; } = 0.8f;

    /// <summary>α₀: the weight of every unobserved entry in the loss (1: the classic implicit ALS).</summary>
    public float UnobservedWeight { get; init; } = 1f;

    /// <summary>Compute the training loss after every iteration (one extra pass over the data).</summary>
    public bool CalculateLoss { get; init; }

    public int EffectiveThreads => Threads > 0 ? Threads : Environment.ProcessorCount;

    /// <summary>
    /// These settings with the original design's weighting and regularization (linear confidence
    /// 1 + 3·plays, λ 0.01, 64 factors, no BM25, the classic loss); iterations, seed and threads kept.
    /// </summary>
    public AlsOptions AsOriginalDesign() => this with
    {
        Factors = 64, Alpha = 3f, Scaling = ConfidenceScaling.Linear, Regularization = 0.01f, Bm25 = false,
        RegularizationExponent = 0, RegularizationOffset = 1, UnobservedWeight = 1,
    };

    public void Validate()
    {
        static void Check(bool ok, string name, object value, string rule)
        {
            if (!ok) throw new ArgumentOutOfRangeException(name, value, $"{name} {rule} (got {value})");
        }
        Check(Factors is >= 1 and <= 4096, "factors", Factors, "must be in 1..4096");
        Check(Iterations is >= 0 and <= 10_000, "iterations", Iterations, "must be in 0..10000");
        Check(float.IsFinite(Regularization) && Regularization >= 0, "regularization", Regularization, "must be a finite number >= 0");
        Check(float.IsFinite(Alpha) && Alpha >= 0, "alpha", Alpha, "must be a finite number >= 0");
        Check(CgSteps is >= 1 and <= 1000, "cg_steps", CgSteps, "must be in 1..1000");
        Check(Threads is >= 0 and <= 1024, "threads", Threads, "must be in 0..1024 (0 = all cores)");
        Check(float.IsFinite(InitScale) && InitScale > 0, "init_scale", InitScale, "must be a finite number > 0");
        Check(float.IsFinite(RegularizationExponent) && RegularizationExponent is >= 0 and <= 2, "reg_exponent", RegularizationExponent, "must be in 0..2");
        Check(float.IsFinite(RegularizationOffset) && RegularizationOffset is >= 0 and <= 1e9f, "reg_offset", RegularizationOffset, "must be in 0..1e9");
        Check(RegularizationExponent == 0 || RegularizationOffset > 0 || Regularization == 0, "reg_offset", RegularizationOffset,
            "must be > 0 with a regularization exponent (a row without interactions would get no regularization)");
        Check(float.IsFinite(UnobservedWeight) && UnobservedWeight is >= 1e-6f and <= 1e6f, "unobserved_weight", UnobservedWeight, "must be in 1e-6..1e6");
        Check(float.IsFinite(Bm25K1) && Bm25K1 is > 0 and <= 1e6f, "bm25_k1", Bm25K1, "must be in (0, 1e6]");
        Check(float.IsFinite(Bm25B) && Bm25B is >= 0 and <= 1, "bm25_b", Bm25B, "must be in 0..1");
    }
}
