using System.Numerics.Tensors;

namespace RecSys.Engine.Als;

/// <summary>
/// Dense Cholesky factorisation and solve of a symmetric positive-definite system, in double
/// precision: the exact row solver, the fold-in solver and the oracle CG is tested against. The row
/// solve builds only the lower triangle, a row at a time with TensorPrimitives (a new play's fold-in
/// went from 0.66 ms to tens of µs, docs/events.md); <see cref="SolveRowScalar"/> is its oracle.
/// </summary>
public static class Cholesky
{
    /// <summary>Solves A·x = b in place of a copy; returns false when A is not positive definite.</summary>
    public static bool Solve(double[] a, double[] b, int n, Span<double> x)
    {
        // Factor A = L·Lᵀ, L stored in the lower triangle of a.
        // Reads only the lower triangle and the diagonal; each inner sum is a dot of two row prefixes.
        for (int j = 0; j < n; j++)
        {
            var rowJ = a.AsSpan(j * n, j);
            double d = a[j * n + j] - TensorPrimitives.Dot<double>(rowJ, rowJ);
            if (!(d > 0)) return false;
            double l = Math.Sqrt(d);
            a[j * n + j] = l;
            for (int i = j + 1; i < n; i++)
            {
                a[i * n + j] = (a[i * n + j] - TensorPrimitives.Dot<double>(a.AsSpan(i * n, j), rowJ)) / l;
            }
        }
        // L·y = b, then Lᵀ·x = y.
        for (int i = 0; i < n; i++)
        {
            x[i] = (b[i] - TensorPrimitives.Dot<double>(a.AsSpan(i * n, i), x[..i])) / a[i * n + i];
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
        public double[] Y { get; } = new double[k];
    }

    /// <summary>
    /// The exact row solve: x = (YᵀY + λI + Σ (c − 1)·y·yᵀ)⁻¹ · Σ c·y, λ in YᵀY or, per row, in
    /// <c>rowDiagonal</c> (RowRegularization). Rows with no interactions get x = 0.
    /// Leaves x unchanged (and returns false) if the system is not positive definite, which only
    /// happens with λ = 0 and too few interactions.
    /// </summary>
    /// <param name="rowDiagonal">Added to YᵀY's diagonal for this row (frequency-scaled regularization; 0 when λ is in YᵀY).</param>
    public static bool SolveRow(
        ReadOnlySpan<float> gram, ReadOnlySpan<float> factors, int k,
        ReadOnlySpan<int> indices, ReadOnlySpan<float> confidence, Span<float> x, Scratch scratch, float rowDiagonal = 0)
    {
        var a = scratch.A;
        var b = scratch.B;
        var y = scratch.Y;
        TensorPrimitives.ConvertChecked<float, double>(gram[..(k * k)], a);
        for (int i = 0; i < k; i++) a[i * k + i] += rowDiagonal;
        Array.Clear(b);
        for (int n = 0; n < indices.Length; n++)
        {
            TensorPrimitives.ConvertChecked<float, double>(factors.Slice(indices[n] * k, k), y);
            double c = confidence[n];
            TensorPrimitives.MultiplyAdd<double>(y, c, b, b);
            // Lower triangle only (all the factorisation reads): row i gets (c − 1)·y_i·y[0..i].
            for (int i = 0; i < k; i++)
            {
                var row = a.AsSpan(i * k, i + 1);
                TensorPrimitives.MultiplyAdd<double>(y.AsSpan(0, i + 1), (c - 1) * y[i], row, row);
            }
        }
        if (!Solve(a, b, k, scratch.X)) return false;
        for (int i = 0; i < k; i++) x[i] = (float)scratch.X[i];
        return true;
    }

    /// <summary>The plain loops of <see cref="SolveRow"/>, the whole matrix built element by element: its test oracle.</summary>
    internal static bool SolveRowScalar(
        ReadOnlySpan<float> gram, ReadOnlySpan<float> factors, int k,
        ReadOnlySpan<int> indices, ReadOnlySpan<float> confidence, Span<float> x, Scratch scratch, float rowDiagonal = 0)
    {
        var a = scratch.A;
        var b = scratch.B;
        for (int i = 0; i < a.Length; i++) a[i] = gram[i];
        for (int i = 0; i < k; i++) a[i * k + i] += rowDiagonal;
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
