using RecSys.Engine.Compute;

namespace RecSys.Engine.Als;

/// <summary>
/// One row's update by conjugate gradient on (YᵀY + λI + Yᵀ(Cᵤ − I)Y)·x = YᵀCᵤp(u) (λ in YᵀY, or the
/// row's own λ on the diagonal: RowRegularization), warm-started
/// from the current x (Takács et al. 2011; the same steps as implicit's CPU solver).
/// YᵀCᵤY is never formed: its product with a vector is YᵀY·v plus one fused pass over the row.
/// </summary>
public static class ConjugateGradient
{
    /// <summary>implicit's early-exit threshold on r·r.</summary>
    public const float Epsilon = 1e-20f;

    /// <summary>Per-thread vectors, allocated once per worker.</summary>
    public sealed class Scratch(int k)
    {
        public float[] R { get; } = new float[k];
        public float[] P { get; } = new float[k];
        public float[] Ap { get; } = new float[k];
    }

    /// <param name="rowDiagonal">Added to YᵀY's diagonal for this row (frequency-scaled regularization; 0 when λ is in YᵀY).</param>
    public static void SolveRow(
        ReadOnlySpan<float> gram, ReadOnlySpan<float> factors, int k,
        ReadOnlySpan<int> indices, ReadOnlySpan<float> confidence,
        Span<float> x, int steps, Scratch scratch, float rowDiagonal = 0)
    {
        Span<float> r = scratch.R;
        Span<float> p = scratch.P;
        Span<float> ap = scratch.Ap;

        // r = b − A·x = −(YᵀY + λI)·x + Σ (c − (c − 1)·(y·x))·y
        SymMatVec(gram, x, r, k);
        if (rowDiagonal != 0) Kernels.Axpy(rowDiagonal, x, r);
        System.Numerics.Tensors.TensorPrimitives.Negate(r, r);
        Kernels.AccumulateResidual(factors, k, indices, confidence, x, r);

        r.CopyTo(p);
        float rsOld = Kernels.Dot(r, r);
        if (rsOld < Epsilon) return;

        for (int step = 0; step < steps; step++)
        {
            SymMatVec(gram, p, ap, k);
            if (rowDiagonal != 0) Kernels.Axpy(rowDiagonal, p, ap);
            Kernels.AccumulateConfidenceProduct(factors, k, indices, confidence, p, ap);
            float pAp = Kernels.Dot(p, ap);
            if (!(pAp > 0)) return; // p is (numerically) zero or A lost definiteness: stop rather than divide.
            float alpha = rsOld / pAp;
            Kernels.Axpy(alpha, p, x);
            Kernels.Axpy(-alpha, ap, r);
            float rsNew = Kernels.Dot(r, r);
            if (rsNew < Epsilon) return;
            float beta = rsNew / rsOld;
            // p = r + beta·p
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(p, beta, r, p);
            rsOld = rsNew;
        }
    }

    private static void SymMatVec(ReadOnlySpan<float> g, ReadOnlySpan<float> v, Span<float> y, int k) =>
        Kernels.SymmetricMatVec(g, k, v, y);
}
