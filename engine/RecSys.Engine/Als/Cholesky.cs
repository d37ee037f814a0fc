namespace RecSys.Engine.Als;

/// <summary>
/// Dense Cholesky factorisation and solve of a symmetric positive-definite system, in double
/// precision: the exact row solver, the fold-in solver and the oracle CG is tested against.
/// </summary>
public static class Cholesky
{
    /// <summary>Solves A·x = b in place of a copy; returns false when A is not positive definite.</summary>
    public static bool Solve(double[] a, double[] b, int n, Span<double> x)
    {
        // Factor A = L·Lᵀ, L stored in the lower triangle of a.
        for (int j = 0; j < n; j++)
        {
            double d = a[j * n + j];
            for (int k = 0; k < j; k++) d -= a[j * n + k] * a[j * n + k];
            if (!(d > 0)) return false;
            double l = Math.Sqrt(d);
            a[j * n + j] = l;
            for (int i = j + 1; i < n; i++)
            {
                double s = a[i * n + j];
                for (int k = 0; k < j; k++) s -= a[i * n + k] * a[j * n + k];
                a[i * n + j] = s / l;
            }
        }
        // L·y = b, then Lᵀ·x = y.
        for (int i = 0; i < n; i++)
        {
            double s = b[i];
            for (int k = 0; k < i; k++) s -= a[i * n + k] * x[k];
            x[i] = s / a[i * n + i];
        }
        for (int i = n - 1; i >= 0; i--)
        {
            double s = x[i];
            for (int k = i + 1; k < n; k++) s -= a[k * n + i] * x[k];
            x[i] = s / a[i * n + i];
        }
        return true;
    }

    /// <summary>Per-thread buffers for <see cref="SolveRow"/>.</summary>
    public sealed class Scratch(int k)
    {
        public double[] A { get; } = new double[k * k];
        public double[] B { get; } = new double[k];
        public double[] X { get; } = new double[k];
    }

    /// <summary>
    /// The exact row solve: x = (YᵀY + λI + Σ (c − 1)·y·yᵀ)⁻¹ · Σ c·y. Rows with no interactions get x = 0.
    /// Leaves x unchanged (and returns false) if the system is not positive definite, which only
    /// happens with λ = 0 and too few interactions.
    /// </summary>
    public static bool SolveRow(
        ReadOnlySpan<float> gram, ReadOnlySpan<float> factors, int k,
        ReadOnlySpan<int> indices, ReadOnlySpan<float> confidence, Span<float> x, Scratch scratch)
    {
        var a = scratch.A;
        var b = scratch.B;
        for (int i = 0; i < a.Length; i++) a[i] = gram[i];
        Array.Clear(b);
        for (int n = 0; n < indices.Length; n++)
        {
            ReadOnlySpan<float> y = factors.Slice(indices[n] * k, k);
            double c = confidence[n];
            for (int i = 0; i < k; i++)
            {
                double ci = (c - 1) * y[i];
                b[i] += c * y[i];
                for (int j = 0; j < k; j++) a[i * k + j] += ci * y[j];
            }
        }
        if (!Solve(a, b, k, scratch.X)) return false;
        for (int i = 0; i < k; i++) x[i] = (float)scratch.X[i];
        return true;
    }
}
