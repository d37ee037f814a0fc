using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RecSys.Engine.Compute;

/// <summary>The vector paths of <see cref="Kernels"/>. Callers have validated sizes and indices.</summary>
internal static partial class Kernels
{
    private const int PrefetchDistance = 4;

    /// <summary>Hints the cache to fetch <paramref name="bytes"/> bytes (in 64-byte lines) from <paramref name="at"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Prefetch(ref float at, int bytes)
    {
        byte* p = (byte*)Unsafe.AsPointer(ref at);
        for (int offset = 0; offset < bytes; offset += 64) Sse.Prefetch0(p + offset);
    }

    /// <summary>k = 32 with AVX-512: v and the accumulator stay in 4 registers for the whole row.</summary>
    internal static void AccumulateWeighted32x512(
        ReadOnlySpan<float> factors, ReadOnlySpan<int> indices, ReadOnlySpan<float> confidence,
        ReadOnlySpan<float> v, Span<float> acc, float baseScale, float dotScale)
    {
        ref float f = ref MemoryMarshal.GetReference(factors);
        ref float vr = ref MemoryMarshal.GetReference(v);
        ref float ar = ref MemoryMarshal.GetReference(acc);
        var v0 = Vector512.LoadUnsafe(ref vr, 0);
        var v1 = Vector512.LoadUnsafe(ref vr, 16);
        var a0 = Vector512.LoadUnsafe(ref ar, 0);
        var a1 = Vector512.LoadUnsafe(ref ar, 16);
        int count = indices.Length;
        for (int n = 0; n < count; n++)
        {
            if (Sse.IsSupported && n + PrefetchDistance < count)
            {
                // Rows are gathered at random: ask for the one a few steps ahead now.
                Prefetch(ref Unsafe.Add(ref f, (nint)indices[n + PrefetchDistance] * 32), 128);
            }
            ref float y = ref Unsafe.Add(ref f, (nint)indices[n] * 32);
            var y0 = Vector512.LoadUnsafe(ref y, 0);
            var y1 = Vector512.LoadUnsafe(ref y, 16);
            float d = Vector512.Sum(Vector512.FusedMultiplyAdd(y1, v1, y0 * v0));
            float c = confidence[n];
            var s = Vector512.Create(baseScale * c + dotScale * (c - 1f) * d);
            a0 = Vector512.FusedMultiplyAdd(s, y0, a0);
            a1 = Vector512.FusedMultiplyAdd(s, y1, a1);
        }
        a0.StoreUnsafe(ref ar, 0);
        a1.StoreUnsafe(ref ar, 16);
    }

    /// <summary>k = 64 with AVX-512: v and the accumulator stay in 8 registers for the whole row.</summary>
    internal static void AccumulateWeighted64x512(
        ReadOnlySpan<float> factors, ReadOnlySpan<int> indices, ReadOnlySpan<float> confidence,
        ReadOnlySpan<float> v, Span<float> acc, float baseScale, float dotScale)
    {
        ref float f = ref MemoryMarshal.GetReference(factors);
        ref float vr = ref MemoryMarshal.GetReference(v);
        ref float ar = ref MemoryMarshal.GetReference(acc);
        var v0 = Vector512.LoadUnsafe(ref vr, 0);
        var v1 = Vector512.LoadUnsafe(ref vr, 16);
        var v2 = Vector512.LoadUnsafe(ref vr, 32);
        var v3 = Vector512.LoadUnsafe(ref vr, 48);
        var a0 = Vector512.LoadUnsafe(ref ar, 0);
        var a1 = Vector512.LoadUnsafe(ref ar, 16);
        var a2 = Vector512.LoadUnsafe(ref ar, 32);
        var a3 = Vector512.LoadUnsafe(ref ar, 48);
        int count = indices.Length;
        for (int n = 0; n < count; n++)
        {
            if (Sse.IsSupported && n + PrefetchDistance < count)
            {
                // Rows are gathered at random: ask for the one a few steps ahead now.
                Prefetch(ref Unsafe.Add(ref f, (nint)indices[n + PrefetchDistance] * 64), 256);
            }
            ref float y = ref Unsafe.Add(ref f, (nint)indices[n] * 64);
            var y0 = Vector512.LoadUnsafe(ref y, 0);
            var y1 = Vector512.LoadUnsafe(ref y, 16);
            var y2 = Vector512.LoadUnsafe(ref y, 32);
            var y3 = Vector512.LoadUnsafe(ref y, 48);
            var d01 = Vector512.FusedMultiplyAdd(y1, v1, y0 * v0);
            var d23 = Vector512.FusedMultiplyAdd(y3, v3, y2 * v2);
            float d = Vector512.Sum(d01 + d23);
            float c = confidence[n];
            var s = Vector512.Create(baseScale * c + dotScale * (c - 1f) * d);
            a0 = Vector512.FusedMultiplyAdd(s, y0, a0);
            a1 = Vector512.FusedMultiplyAdd(s, y1, a1);
            a2 = Vector512.FusedMultiplyAdd(s, y2, a2);
            a3 = Vector512.FusedMultiplyAdd(s, y3, a3);
        }
        a0.StoreUnsafe(ref ar, 0);
        a1.StoreUnsafe(ref ar, 16);
        a2.StoreUnsafe(ref ar, 32);
        a3.StoreUnsafe(ref ar, 48);
    }

    /// <summary>k = 128 with AVX-512: v and the accumulator stay in 16 registers for the whole row.</summary>
    internal static void AccumulateWeighted128x512(
        ReadOnlySpan<float> factors, ReadOnlySpan<int> indices, ReadOnlySpan<float> confidence,
        ReadOnlySpan<float> v, Span<float> acc, float baseScale, float dotScale)
    {
        ref float f = ref MemoryMarshal.GetReference(factors);
        ref float vr = ref MemoryMarshal.GetReference(v);
        ref float ar = ref MemoryMarshal.GetReference(acc);
        var v0 = Vector512.LoadUnsafe(ref vr, 0);
        var v1 = Vector512.LoadUnsafe(ref vr, 16);
        var v2 = Vector512.LoadUnsafe(ref vr, 32);
        var v3 = Vector512.LoadUnsafe(ref vr, 48);
        var v4 = Vector512.LoadUnsafe(ref vr, 64);
        var v5 = Vector512.LoadUnsafe(ref vr, 80);
        var v6 = Vector512.LoadUnsafe(ref vr, 96);
        var v7 = Vector512.LoadUnsafe(ref vr, 112);
        var a0 = Vector512.LoadUnsafe(ref ar, 0);
        var a1 = Vector512.LoadUnsafe(ref ar, 16);
        var a2 = Vector512.LoadUnsafe(ref ar, 32);
        var a3 = Vector512.LoadUnsafe(ref ar, 48);
        var a4 = Vector512.LoadUnsafe(ref ar, 64);
        var a5 = Vector512.LoadUnsafe(ref ar, 80);
        var a6 = Vector512.LoadUnsafe(ref ar, 96);
        var a7 = Vector512.LoadUnsafe(ref ar, 112);
        int count = indices.Length;
        for (int n = 0; n < count; n++)
        {
            if (Sse.IsSupported && n + PrefetchDistance < count)
            {
                // Rows are gathered at random: ask for the one a few steps ahead now.
                Prefetch(ref Unsafe.Add(ref f, (nint)indices[n + PrefetchDistance] * 128), 512);
            }
            ref float y = ref Unsafe.Add(ref f, (nint)indices[n] * 128);
            var y0 = Vector512.LoadUnsafe(ref y, 0);
            var y1 = Vector512.LoadUnsafe(ref y, 16);
            var y2 = Vector512.LoadUnsafe(ref y, 32);
            var y3 = Vector512.LoadUnsafe(ref y, 48);
            var y4 = Vector512.LoadUnsafe(ref y, 64);
            var y5 = Vector512.LoadUnsafe(ref y, 80);
            var y6 = Vector512.LoadUnsafe(ref y, 96);
            var y7 = Vector512.LoadUnsafe(ref y, 112);
            var d01 = Vector512.FusedMultiplyAdd(y1, v1, y0 * v0);
            var d23 = Vector512.FusedMultiplyAdd(y3, v3, y2 * v2);
            var d45 = Vector512.FusedMultiplyAdd(y5, v5, y4 * v4);
            var d67 = Vector512.FusedMultiplyAdd(y7, v7, y6 * v6);
            float d = Vector512.Sum((d01 + d23) + (d45 + d67));
            float c = confidence[n];
            var s = Vector512.Create(baseScale * c + dotScale * (c - 1f) * d);
            a0 = Vector512.FusedMultiplyAdd(s, y0, a0);
            a1 = Vector512.FusedMultiplyAdd(s, y1, a1);
            a2 = Vector512.FusedMultiplyAdd(s, y2, a2);
            a3 = Vector512.FusedMultiplyAdd(s, y3, a3);
            a4 = Vector512.FusedMultiplyAdd(s, y4, a4);
            a5 = Vector512.FusedMultiplyAdd(s, y5, a5);
            a6 = Vector512.FusedMultiplyAdd(s, y6, a6);
            a7 = Vector512.FusedMultiplyAdd(s, y7, a7);
        }
        a0.StoreUnsafe(ref ar, 0);
        a1.StoreUnsafe(ref ar, 16);
        a2.StoreUnsafe(ref ar, 32);
        a3.StoreUnsafe(ref ar, 48);
        a4.StoreUnsafe(ref ar, 64);
        a5.StoreUnsafe(ref ar, 80);
        a6.StoreUnsafe(ref ar, 96);
        a7.StoreUnsafe(ref ar, 112);
    }

    /// <summary>Any k ≥ 16 with 512-bit vectors; the accumulator stays in memory (L1).</summary>
    internal static void AccumulateWeighted512(
        ReadOnlySpan<float> factors, int k, ReadOnlySpan<int> indices, ReadOnlySpan<float> confidence,
        ReadOnlySpan<float> v, Span<float> acc, float baseScale, float dotScale)
    {
        const int W = 16;
        int full = k - k % W;
        ref float f = ref MemoryMarshal.GetReference(factors);
        ref float vr = ref MemoryMarshal.GetReference(v);
        ref float ar = ref MemoryMarshal.GetReference(acc);
        for (int n = 0; n < indices.Length; n++)
        {
            ref float y = ref Unsafe.Add(ref f, (nint)indices[n] * k);
            Vector512<float> d0 = default, d1 = default;
            int j = 0;
            for (; j + 2 * W <= full; j += 2 * W)
            {
                d0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref y, (nuint)j), Vector512.LoadUnsafe(ref vr, (nuint)j), d0);
                d1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref y, (nuint)(j + W)), Vector512.LoadUnsafe(ref vr, (nuint)(j + W)), d1);
            }
            for (; j < full; j += W)
            {
                d0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref y, (nuint)j), Vector512.LoadUnsafe(ref vr, (nuint)j), d0);
            }
            float d = Vector512.Sum(d0 + d1);
            for (; j < k; j++) d += Unsafe.Add(ref y, j) * Unsafe.Add(ref vr, j);
            float c = confidence[n];
            float s = baseScale * c + dotScale * (c - 1f) * d;
            var sv = Vector512.Create(s);
            for (j = 0; j < full; j += W)
            {
                Vector512.FusedMultiplyAdd(sv, Vector512.LoadUnsafe(ref y, (nuint)j), Vector512.LoadUnsafe(ref ar, (nuint)j))
                    .StoreUnsafe(ref ar, (nuint)j);
            }
            for (; j < k; j++) Unsafe.Add(ref ar, j) += s * Unsafe.Add(ref y, j);
        }
    }

    /// <summary>Any k ≥ 8 with 256-bit vectors; the accumulator stays in memory (L1).</summary>
    internal static void AccumulateWeighted256(
        ReadOnlySpan<float> factors, int k, ReadOnlySpan<int> indices, ReadOnlySpan<float> confidence,
        ReadOnlySpan<float> v, Span<float> acc, float baseScale, float dotScale)
    {
        const int W = 8;
        int full = k - k % W;
        ref float f = ref MemoryMarshal.GetReference(factors);
        ref float vr = ref MemoryMarshal.GetReference(v);
        ref float ar = ref MemoryMarshal.GetReference(acc);
        for (int n = 0; n < indices.Length; n++)
        {
            ref float y = ref Unsafe.Add(ref f, (nint)indices[n] * k);
            var dv = Vector256<float>.Zero;
            int j = 0;
            for (; j < full; j += W)
            {
                dv = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref y, (nuint)j), Vector256.LoadUnsafe(ref vr, (nuint)j), dv);
            }
            float d = Vector256.Sum(dv);
            for (; j < k; j++) d += Unsafe.Add(ref y, j) * Unsafe.Add(ref vr, j);
            float c = confidence[n];
            float s = baseScale * c + dotScale * (c - 1f) * d;
            var sv = Vector256.Create(s);
            for (j = 0; j < full; j += W)
            {
                Vector256.FusedMultiplyAdd(sv, Vector256.LoadUnsafe(ref y, (nuint)j), Vector256.LoadUnsafe(ref ar, (nuint)j))
                    .StoreUnsafe(ref ar, (nuint)j);
            }
            for (; j < k; j++) Unsafe.Add(ref ar, j) += s * Unsafe.Add(ref y, j);
        }
    }

    /// <summary>k = 64, AVX-512: y = Σ_j v_j·G_j with two interleaved accumulator sets to hide FMA latency.</summary>
    internal static void SymmetricMatVec64x512(ReadOnlySpan<float> g, ReadOnlySpan<float> v, Span<float> y)
    {
        ref float gr = ref MemoryMarshal.GetReference(g);
        ref float vr = ref MemoryMarshal.GetReference(v);
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default;
        for (int j = 0; j < 64; j += 2)
        {
            ref float row = ref Unsafe.Add(ref gr, j * 64);
            var s = Vector512.Create(Unsafe.Add(ref vr, j));
            a0 = Vector512.FusedMultiplyAdd(s, Vector512.LoadUnsafe(ref row, 0), a0);
            a1 = Vector512.FusedMultiplyAdd(s, Vector512.LoadUnsafe(ref row, 16), a1);
            a2 = Vector512.FusedMultiplyAdd(s, Vector512.LoadUnsafe(ref row, 32), a2);
            a3 = Vector512.FusedMultiplyAdd(s, Vector512.LoadUnsafe(ref row, 48), a3);
            ref float next = ref Unsafe.Add(ref row, 64);
            var t = Vector512.Create(Unsafe.Add(ref vr, j + 1));
            b0 = Vector512.FusedMultiplyAdd(t, Vector512.LoadUnsafe(ref next, 0), b0);
            b1 = Vector512.FusedMultiplyAdd(t, Vector512.LoadUnsafe(ref next, 16), b1);
            b2 = Vector512.FusedMultiplyAdd(t, Vector512.LoadUnsafe(ref next, 32), b2);
            b3 = Vector512.FusedMultiplyAdd(t, Vector512.LoadUnsafe(ref next, 48), b3);
        }
        ref float yr = ref MemoryMarshal.GetReference(y);
        (a0 + b0).StoreUnsafe(ref yr, 0);
        (a1 + b1).StoreUnsafe(ref yr, 16);
        (a2 + b2).StoreUnsafe(ref yr, 32);
        (a3 + b3).StoreUnsafe(ref yr, 48);
    }

    /// <summary>
    /// Any k ≥ 16: y = Σ_j v_j·G_j over column blocks of 16, four blocks at a time so four independent
    /// FMA chains hide the latency; leftover blocks use two accumulators over alternating rows.
    /// </summary>
    internal static void SymmetricMatVec512(ReadOnlySpan<float> g, int k, ReadOnlySpan<float> v, Span<float> y)
    {
        const int W = 16;
        int full = k - k % W;
        ref float gr = ref MemoryMarshal.GetReference(g);
        ref float vr = ref MemoryMarshal.GetReference(v);
        ref float yr = ref MemoryMarshal.GetReference(y);
        int c = 0;
        for (; c + 4 * W <= full; c += 4 * W)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int j = 0; j < k; j++)
            {
                var s = Vector512.Create(Unsafe.Add(ref vr, j));
                ref float row = ref Unsafe.Add(ref gr, j * k + c);
                a0 = Vector512.FusedMultiplyAdd(s, Vector512.LoadUnsafe(ref row, 0), a0);
                a1 = Vector512.FusedMultiplyAdd(s, Vector512.LoadUnsafe(ref row, W), a1);
                a2 = Vector512.FusedMultiplyAdd(s, Vector512.LoadUnsafe(ref row, 2 * W), a2);
                a3 = Vector512.FusedMultiplyAdd(s, Vector512.LoadUnsafe(ref row, 3 * W), a3);
            }
            a0.StoreUnsafe(ref yr, (nuint)c);
            a1.StoreUnsafe(ref yr, (nuint)(c + W));
            a2.StoreUnsafe(ref yr, (nuint)(c + 2 * W));
            a3.StoreUnsafe(ref yr, (nuint)(c + 3 * W));
        }
        for (; c < full; c += W)
        {
            Vector512<float> a = default, b = default;
            int j = 0;
            for (; j + 1 < k; j += 2)
            {
                a = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref vr, j)), Vector512.LoadUnsafe(ref gr, (nuint)(j * k + c)), a);
                b = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref vr, j + 1)), Vector512.LoadUnsafe(ref gr, (nuint)((j + 1) * k + c)), b);
            }
            if (j < k)
            {
                a = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref vr, j)), Vector512.LoadUnsafe(ref gr, (nuint)(j * k + c)), a);
            }
            (a + b).StoreUnsafe(ref yr, (nuint)c);
        }
        for (int i = full; i < k; i++)
        {
            float s = 0;
            for (int j = 0; j < k; j++) s += Unsafe.Add(ref gr, j * k + i) * Unsafe.Add(ref vr, j);
            Unsafe.Add(ref yr, i) = s;
        }
    }

    /// <summary>Any k ≥ 8: column blocks of 8, two accumulators over alternating rows of G.</summary>
    internal static void SymmetricMatVec256(ReadOnlySpan<float> g, int k, ReadOnlySpan<float> v, Span<float> y)
    {
        const int W = 8;
        int full = k - k % W;
        ref float gr = ref MemoryMarshal.GetReference(g);
        ref float vr = ref MemoryMarshal.GetReference(v);
        ref float yr = ref MemoryMarshal.GetReference(y);
        for (int c = 0; c < full; c += W)
        {
            Vector256<float> a = default, b = default;
            int j = 0;
            for (; j + 1 < k; j += 2)
            {
                a = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref vr, j)), Vector256.LoadUnsafe(ref gr, (nuint)(j * k + c)), a);
                b = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref vr, j + 1)), Vector256.LoadUnsafe(ref gr, (nuint)((j + 1) * k + c)), b);
            }
            if (j < k)
            {
                a = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref vr, j)), Vector256.LoadUnsafe(ref gr, (nuint)(j * k + c)), a);
            }
            (a + b).StoreUnsafe(ref yr, (nuint)c);
        }
        for (int i = full; i < k; i++)
        {
            float s = 0;
            for (int j = 0; j < k; j++) s += Unsafe.Add(ref gr, j * k + i) * Unsafe.Add(ref vr, j);
            Unsafe.Add(ref yr, i) = s;
        }
    }

    /// <summary>
    /// Upper-triangle Gram accumulation with 512-bit column blocks (the scalar tail columns too).
    /// Each (row a, column block) accumulates over all rows of the block in a register.
    /// </summary>
    internal static void AccumulateGramUpper512(ReadOnlySpan<float> rows, int k, Span<float> g)
    {
        const int W = 16;
        int full = k - k % W;
        int count = rows.Length / k;
        ref float yr = ref MemoryMarshal.GetReference(rows);
        ref float gr = ref MemoryMarshal.GetReference(g);
        for (int a = 0; a < k; a++)
        {
            for (int c = a / W * W; c < full; c += W)
            {
                var acc0 = Vector512.LoadUnsafe(ref gr, (nuint)(a * k + c));
                var acc1 = Vector512<float>.Zero;
                int r = 0;
                for (; r + 1 < count; r += 2)
                {
                    ref float y0 = ref Unsafe.Add(ref yr, r * k);
                    ref float y1 = ref Unsafe.Add(ref y0, k);
                    acc0 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref y0, a)), Vector512.LoadUnsafe(ref y0, (nuint)c), acc0);
                    acc1 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref y1, a)), Vector512.LoadUnsafe(ref y1, (nuint)c), acc1);
                }
                if (r < count)
                {
                    ref float y0 = ref Unsafe.Add(ref yr, r * k);
                    acc0 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref y0, a)), Vector512.LoadUnsafe(ref y0, (nuint)c), acc0);
                }
                (acc0 + acc1).StoreUnsafe(ref gr, (nuint)(a * k + c));
            }
            for (int c = Math.Max(full, a); c < k; c++)
            {
                float s = 0;
                for (int r = 0; r < count; r++) s += Unsafe.Add(ref yr, r * k + a) * Unsafe.Add(ref yr, r * k + c);
                Unsafe.Add(ref gr, a * k + c) += s;
            }
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
