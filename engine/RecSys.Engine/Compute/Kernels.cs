using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RecSys.Engine.Compute;

/// <summary>
/// The fused SIMD kernels of the hot loops, each with a Vector512, a Vector256 and a scalar path.
/// TensorPrimitives covers the single operations; these fuse what it cannot: a dot product and the
/// axpy that uses it, over rows gathered by index, without a call per row.
/// </summary>
public static class Kernels
{
    /// <summary>
    /// For every row i in <paramref name="indices"/>: <c>ap += (conf[i] - 1) · (Y_i · p) · Y_i</c>, the
    /// confidence-weighted part of <c>(YᵀCᵤY)·p</c>, without forming the matrix.
    /// </summary>
    public static void AccumulateConfidenceProduct(
        ReadOnlySpan<float> factors, int k, ReadOnlySpan<int> indices, ReadOnlySpan<float> confidence,
        ReadOnlySpan<float> p, Span<float> ap)
    {
        if (Vector512.IsHardwareAccelerated && k >= Vector512<float>.Count)
        {
            AccumulateConfidenceProduct512(factors, k, indices, confidence, p, ap);
        }
        else if (Vector256.IsHardwareAccelerated && k >= Vector256<float>.Count)
        {
            AccumulateConfidenceProduct256(factors, k, indices, confidence, p, ap);
        }
        else
        {
            AccumulateConfidenceProductScalar(factors, k, indices, confidence, p, ap);
        }
    }

    /// <summary>
    /// The right-hand side of the CG start: for every row i, <c>r += (c - (c - 1)·(Y_i·x)) · Y_i</c>.
    /// Equivalent to <see cref="AccumulateConfidenceProduct"/> with a different coefficient.
    /// </summary>
    public static void AccumulateResidual(
        ReadOnlySpan<float> factors, int k, ReadOnlySpan<int> indices, ReadOnlySpan<float> confidence,
        ReadOnlySpan<float> x, Span<float> r)
    {
        for (int n = 0; n < indices.Length; n++)
        {
            ReadOnlySpan<float> y = factors.Slice(indices[n] * k, k);
            float c = confidence[n];
            float coefficient = c - (c - 1f) * Dot(y, x);
            Axpy(coefficient, y, r);
        }
    }

    /// <summary>scores[i] = Y_i · x for every row of the row-major matrix Y (rows × k).</summary>
    public static void MatVec(ReadOnlySpan<float> matrix, int k, ReadOnlySpan<float> x, Span<float> scores)
    {
        int rows = scores.Length;
        if (matrix.Length < (long)rows * k || x.Length < k)
        {
            throw new ArgumentException("matrix, vector and output sizes disagree");
        }
        if (Vector512.IsHardwareAccelerated && k >= Vector512<float>.Count)
        {
            MatVec512(matrix, k, x, scores);
        }
        else
        {
            for (int i = 0; i < rows; i++)
            {
                scores[i] = TensorPrimitives.Dot(matrix.Slice(i * k, k), x);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => TensorPrimitives.Dot(a, b);

    /// <summary>y += a·x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Axpy(float a, ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.MultiplyAdd(x, a, y, y);

    internal static void AccumulateConfidenceProductScalar(
        ReadOnlySpan<float> factors, int k, ReadOnlySpan<int> indices, ReadOnlySpan<float> confidence,
        ReadOnlySpan<float> p, Span<float> ap)
    {
        for (int n = 0; n < indices.Length; n++)
        {
            ReadOnlySpan<float> y = factors.Slice(indices[n] * k, k);
            float d = 0;
            for (int j = 0; j < k; j++) d += y[j] * p[j];
            float s = (confidence[n] - 1f) * d;
            for (int j = 0; j < k; j++) ap[j] += s * y[j];
        }
    }

    internal static void AccumulateConfidenceProduct512(
        ReadOnlySpan<float> factors, int k, ReadOnlySpan<int> indices, ReadOnlySpan<float> confidence,
        ReadOnlySpan<float> p, Span<float> ap)
    {
        const int W = 16;
        int full = k - k % W;
        ref float pRef = ref MemoryMarshal.GetReference(p);
        ref float apRef = ref MemoryMarshal.GetReference(ap);
        ref float fRef = ref MemoryMarshal.GetReference(factors);
        for (int n = 0; n < indices.Length; n++)
        {
            ref float y = ref Unsafe.Add(ref fRef, (nint)indices[n] * k);
            var acc = Vector512<float>.Zero;
            int j = 0;
            for (; j < full; j += W)
            {
                acc = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref y, (nuint)j), Vector512.LoadUnsafe(ref pRef, (nuint)j), acc);
            }
            float d = Vector512.Sum(acc);
            for (; j < k; j++) d += Unsafe.Add(ref y, j) * Unsafe.Add(ref pRef, j);
            float s = (confidence[n] - 1f) * d;
            var sv = Vector512.Create(s);
            for (j = 0; j < full; j += W)
            {
                var a = Vector512.LoadUnsafe(ref apRef, (nuint)j);
                Vector512.FusedMultiplyAdd(sv, Vector512.LoadUnsafe(ref y, (nuint)j), a).StoreUnsafe(ref apRef, (nuint)j);
            }
            for (; j < k; j++) Unsafe.Add(ref apRef, j) += s * Unsafe.Add(ref y, j);
        }
    }

    internal static void AccumulateConfidenceProduct256(
        ReadOnlySpan<float> factors, int k, ReadOnlySpan<int> indices, ReadOnlySpan<float> confidence,
        ReadOnlySpan<float> p, Span<float> ap)
    {
        const int W = 8;
        int full = k - k % W;
        ref float pRef = ref MemoryMarshal.GetReference(p);
        ref float apRef = ref MemoryMarshal.GetReference(ap);
        ref float fRef = ref MemoryMarshal.GetReference(factors);
        for (int n = 0; n < indices.Length; n++)
        {
            ref float y = ref Unsafe.Add(ref fRef, (nint)indices[n] * k);
            var acc = Vector256<float>.Zero;
            int j = 0;
            for (; j < full; j += W)
            {
                acc = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref y, (nuint)j), Vector256.LoadUnsafe(ref pRef, (nuint)j), acc);
            }
            float d = Vector256.Sum(acc);
            for (; j < k; j++) d += Unsafe.Add(ref y, j) * Unsafe.Add(ref pRef, j);
            float s = (confidence[n] - 1f) * d;
            var sv = Vector256.Create(s);
            for (j = 0; j < full; j += W)
            {
                var a = Vector256.LoadUnsafe(ref apRef, (nuint)j);
                Vector256.FusedMultiplyAdd(sv, Vector256.LoadUnsafe(ref y, (nuint)j), a).StoreUnsafe(ref apRef, (nuint)j);
            }
            for (; j < k; j++) Unsafe.Add(ref apRef, j) += s * Unsafe.Add(ref y, j);
        }
    }

    internal static void MatVec512(ReadOnlySpan<float> matrix, int k, ReadOnlySpan<float> x, Span<float> scores)
    {
        const int W = 16;
        int full = k - k % W;
        ref float xRef = ref MemoryMarshal.GetReference(x);
        ref float mRef = ref MemoryMarshal.GetReference(matrix);
        for (int i = 0; i < scores.Length; i++)
        {
            ref float row = ref Unsafe.Add(ref mRef, (nint)i * k);
            var acc = Vector512<float>.Zero;
            int j = 0;
            for (; j < full; j += W)
            {
                acc = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref row, (nuint)j), Vector512.LoadUnsafe(ref xRef, (nuint)j), acc);
            }
            float d = Vector512.Sum(acc);
            for (; j < k; j++) d += Unsafe.Add(ref row, j) * Unsafe.Add(ref xRef, j);
            scores[i] = d;
        }
    }
}
