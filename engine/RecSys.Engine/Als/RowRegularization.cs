namespace RecSys.Engine.Als;

/// <summary>
/// Each row's regularization and the weight of the unobserved entries (Rendle et al. 2022, "Revisiting
/// the Performance of iALS on Item Recommendation Benchmarks"). A row u with n_u interactions solves
/// <c>(α₀·YᵀY + Σ (c − α₀)·y·yᵀ + λ·(n_u + offset)^ν·I)·x = Σ c·y</c>. Divided by α₀ that is the
/// classic system with confidences c/α₀ and regularization λ_u/α₀, so the solvers keep their kernels:
/// the confidences are scaled once per training, and λ_u/α₀ goes on the diagonal, in YᵀY when it is
/// the same for every row (ν = 0, the classic case: nothing changes), per row otherwise.
/// </summary>
public readonly record struct RowRegularization(float Lambda, float Exponent, float Offset, float UnobservedWeight)
{
    public static RowRegularization From(AlsOptions o) => new(o.Regularization, o.RegularizationExponent, o.RegularizationOffset, o.UnobservedWeight);

    /// <summary>The same λ for every row (no exponent, or no λ at all): it lives in YᵀY's diagonal.</summary>
    public bool Uniform => Exponent == 0 || Lambda == 0;

    /// <summary>λ_u of the loss itself (not divided by α₀): λ·(n + offset)^ν.</summary>
    public double RowLambda(int interactions) => Uniform ? Lambda : Lambda * Math.Pow(interactions + Offset, Exponent);

    /// <summary>What YᵀY's diagonal carries: λ/α₀ when uniform, nothing otherwise.</summary>
    public float GramDiagonal => Uniform ? Lambda / UnobservedWeight : 0;

    /// <summary>What a row of n interactions adds to the diagonal on top of YᵀY's: λ·(n + offset)^ν/α₀, or 0 when uniform.</summary>
    public float RowDiagonal(int interactions) => Uniform ? 0 : (float)(RowLambda(interactions) / UnobservedWeight);

    /// <summary>The factor every confidence is multiplied by: 1/α₀.</summary>
    public float ConfidenceScale => 1 / UnobservedWeight;

    /// <summary>Whether confidences need scaling (α₀ ≠ 1).</summary>
    public bool ScalesConfidence => UnobservedWeight != 1;
}
