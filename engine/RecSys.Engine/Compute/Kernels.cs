using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace RecSys.Engine.Compute;

/// <summary>
/// The fused SIMD kernels of the hot loops. TensorPrimitives covers single operations; these fuse
/// what it cannot (a dot product and the axpy that uses it, over rows gathered by index) and keep
/// accumulators in registers. Each has a Vector512, a Vector256 and a scalar path; the scalar paths
/// are the oracles the tests compare against, and run where hardware intrinsics are disabled.
/// </summary>
internal static partial class Kernels
{
    /// <summary>
    /// The confidence-weighted part of (YᵀCᵤY)·p without forming the matrix: for every row i in
    /// <paramref name="indices"/>, <c>ap += (c_i − 1)·(Y_i·p)·Y_i</c>.
    /// </summary>
    public static void AccumulateConfidenceProduct(
        ReadOnlySpan<float> factors, int k, ReadOnlySpan<int> indices, ReadOnlySpan<float> confidence,
        ReadOnlySpan<float> p, Span<float> ap) =>
        AccumulateWeighted(factors, k, indices, confidence, p, ap, 0f, 1f);

    /// <summary>
    /// The conjugate-gradient start residual's data term: for every row i, <c>r += (c_i − (c_i − 1)·(Y_i·x))·Y_i</c>.
    /// </summary>
    public static void AccumulateResidual(
        ReadOnlySpan<float> factors, int k, ReadOnlySpan<int> indices, ReadOnlySpan<float> confidence,
        ReadOnlySpan<float> x, Span<float> r) =>
        AccumulateWeighted(factors, k, indices, confidence, x, r, 1f, -1f);

    /// <summary>
    /// The shared kernel: <c>acc += (baseScale·c_i + dotScale·(c_i − 1)·(Y_i·v))·Y_i</c> for every row i.
    /// </summary>
    public static void AccumulateWeighted(
        ReadOnlySpan<float> factors, int k, ReadOnlySpan<int> indices, ReadOnlySpan<float> confidence,
        ReadOnlySpan<float> v, Span<float> acc, float baseScale, float dotScale)
    {
        if (indices.Length != confidence.Length || v.Length < k || acc.Length < k)
        {
            throw new ArgumentException("indices, confidence and vector lengths disagree");
        }
        if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated && k is 32 or 64 or 128)
        {
            switch (k)
            {
                case 32: AccumulateWeighted32x512(factors, indices, confidence, v, acc, baseScale, dotScale); break;
                case 64: AccumulateWeighted64x512(factors, indices, confidence, v, acc, baseScale, dotScale); break;
                default: AccumulateWeighted128x512(factors, indices, confidence, v, acc, baseScale, dotScale); break;
            }
        }
        else if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated && k >= 16)
        {
            AccumulateWeighted512(factors, k, indices, confidence, v, acc, baseScale, dotScale);
        }
        else if (System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated && k >= 8)
        {
            AccumulateWeighted256(factors, k, indices, confidence, v, acc, baseScale, dotScale);
        }
        else
        {
            AccumulateWeightedScalar(factors, k, indices, confidence, v, acc, baseScale, dotScale);
        }
    }

    /// <summary>y = G·v for a symmetric k × k matrix G (row-major).</summary>
    public static void SymmetricMatVec(ReadOnlySpan<float> g, int k, ReadOnlySpan<float> v, Span<float> y)
    {
        if (g.Length < k * k || v.Length < k || y.Length < k)
        {
            throw new ArgumentException("matrix and vector sizes disagree");
        }
        if (k == 64 && System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
        {
            SymmetricMatVec64x512(g, v, y);
        }
        else if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated && k >= 16)
        {
            SymmetricMatVec512(g, k, v, y);
        }
        else if (System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated && k >= 8)
        {
            SymmetricMatVec256(g, k, v, y);
        }
        else
        {
            SymmetricMatVecScalar(g, k, v, y);
        }
    }

    /// <summary>scores[i] = M_i · x for every row of the row-major matrix M (rows × k).</summary>
    public static void MatVec(ReadOnlySpan<float> matrix, int k, ReadOnlySpan<float> x, Span<float> scores)
    {
        if (matrix.Length < (long)scores.Length * k || x.Length < k)
        {
            throw new ArgumentException("matrix, vector and output sizes disagree");
        }
        if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated && k >= 16)
        {
            MatVec512(matrix, k, x, scores);
        }
        else
        {
            for (int i = 0; i < scores.Length; i++)
            {
                scores[i] = TensorPrimitives.Dot(matrix.Slice(i * k, k), x);
            }
        }
    }

    /// <summary>
    /// g += Σ_r y_r·y_rᵀ over the rows of a row-major block (rows × k), upper triangle only (column
    /// blocks at or right of the diagonal); <see cref="MirrorUpper"/> completes the matrix.
    /// </summary>
    public static void AccumulateGramUpper(ReadOnlySpan<float> rows, int k, Span<float> g)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (rows.Length % k != 0 || g.Length < k * k) throw new ArgumentException("block and matrix sizes disagree");
        if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated && k >= 16)
        {
            AccumulateGramUpper512(rows, k, g);
        }
        else if (System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated && k >= 8)
        {
            AccumulateGramUpperRows(rows, k, g);
        }
        else
        {
            AccumulateGramScalar(rows, k, g);
        }
    }

    /// <summary>
    /// The Gram accumulation without AVX-512: per row, each upper-triangle row segment gets one
    /// TensorPrimitives multiply-add (Vector256 or Vector128, whatever the machine has). The
    /// register-blocked kernel needs 16 lanes; below that this beats the scalar loops (docs/benchmarks.md).
    /// </summary>
    internal static void AccumulateGramUpperRows(ReadOnlySpan<float> rows, int k, Span<float> g)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        for (int r = 0; r < rows.Length; r += k)
        {
            ReadOnlySpan<float> y = rows.Slice(r, k);
            for (int a = 0; a < k; a++)
            {
                var segment = g.Slice(a * k + a, k - a);
                TensorPrimitives.MultiplyAdd(y[a..], y[a], segment, segment);
            }
        }
    }

    /// <summary>Copies the upper triangle of a k × k matrix onto its lower triangle.</summary>
    public static void MirrorUpper(Span<float> g, int k)
    {
        for (int a = 0; a < k; a++)
            for (int c = 0; c < a; c++)
                g[a * k + c] = g[c * k + a];
    }

    internal static void AccumulateGramScalar(ReadOnlySpan<float> rows, int k, Span<float> g)
    {
        // k = 0 would never advance through the rows.
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        for (int r = 0; r < rows.Length; r += k)
        {
            ReadOnlySpan<float> y = rows.Slice(r, k);
            for (int a = 0; a < k; a++)
            {
                float ya = y[a];
                for (int c = a; c < k; c++) g[a * k + c] += ya * y[c];
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => TensorPrimitives.Dot(a, b);

    /// <summary>y += a·x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Axpy(float a, ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.MultiplyAdd(x, a, y, y);

    internal static void AccumulateWeightedScalar(
        ReadOnlySpan<float> factors, int k, ReadOnlySpan<int> indices, ReadOnlySpan<float> confidence,
        ReadOnlySpan<float> v, Span<float> acc, float baseScale, float dotScale)
    {
        for (int n = 0; n < indices.Length; n++)
        {
            ReadOnlySpan<float> y = factors.Slice(indices[n] * k, k);
            float d = 0;
            for (int j = 0; j < k; j++) d += y[j] * v[j];
            float c = confidence[n];
            float s = baseScale * c + dotScale * (c - 1f) * d;
            for (int j = 0; j < k; j++) acc[j] += s * y[j];
        }
    }

    internal static void SymmetricMatVecScalar(ReadOnlySpan<float> g, int k, ReadOnlySpan<float> v, Span<float> y)
    {
        for (int i = 0; i < k; i++)
        {
            float s = 0;
            for (int j = 0; j < k; j++) s += g[i * k + j] * v[j];
            y[i] = s;
        }
    }
}
