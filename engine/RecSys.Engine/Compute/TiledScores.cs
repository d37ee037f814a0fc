using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RecSys.Engine.Compute;

/// <summary>
/// Vectors stored in tiles of <see cref="Width"/> rows, factor-major inside a tile ([factor][row]), so a
/// query's scores for a whole tile are k broadcast multiply-adds into one register's worth of scores:
/// no horizontal sum per row, which is what a row-at-a-time dot product of 64 factors mostly spends
/// its time on (<c>ScanKernelBenchmarks</c>; docs/benchmarks.md, uncached answers).
/// </summary>
internal static class TiledScores
{
    public const int Width = 16;

    /// <summary>The tiled copy of <paramref name="rows"/> (rows × k, row-major); the last tile padded with zeros.</summary>
    public static float[] Tile(ReadOnlySpan<float> rows, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (rows.Length % k != 0) throw new ArgumentException("vector array is not a whole number of rows");
        int count = rows.Length / k;
        int tiles = (count + Width - 1) / Width;
        var tiled = new float[(long)tiles * Width * k];
        for (int r = 0; r < count; r++)
        {
            int tile = r / Width, lane = r % Width;
            var row = rows.Slice(r * k, k);
            int at = tile * Width * k + lane;
            for (int f = 0; f < k; f++) tiled[at + f * Width] = row[f];
        }
        return tiled;
    }

    /// <summary>scores[i] = row (tile·Width + i) · query, for the <see cref="Width"/> rows of one tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Score(ReadOnlySpan<float> tiles, int tile, int k, ReadOnlySpan<float> query, Span<float> scores)
    {
        if (query.Length < k) throw new ArgumentException($"query has {query.Length} values, tiles have {k} factors", nameof(query));
        if (scores.Length < Width) throw new ArgumentException($"scores hold {scores.Length} values, a tile has {Width}", nameof(scores));
        if (tile < 0 || (long)(tile + 1) * Width * k > tiles.Length) throw new ArgumentException($"tile {tile} is outside the {tiles.Length / (Width * k)} tiles", nameof(tile));
        var block = tiles.Slice(tile * Width * k, Width * k);
#if RECSYS_SLOWDOWN
        if (CalibrationSlowdown.Due()) Dispatch(block, k, query, scores);
#endif
        Dispatch(block, k, query, scores);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dispatch(ReadOnlySpan<float> block, int k, ReadOnlySpan<float> query, Span<float> scores)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            Score512(block, k, query, scores);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Score256(block, k, query, scores);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            Score128(block, k, query, scores);
        }
        else
        {
            ScoreScalar(block, k, query, scores);
        }
    }

    internal static void ScoreScalar(ReadOnlySpan<float> block, int k, ReadOnlySpan<float> query, Span<float> scores)
    {
        for (int i = 0; i < Width; i++)
        {
            float s = 0;
            for (int f = 0; f < k; f++) s += block[f * Width + i] * query[f];
            scores[i] = s;
        }
    }

    /// <summary>Four accumulators over interleaved factors: a multiply-add's latency is hidden behind the other three.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Score512(ReadOnlySpan<float> block, int k, ReadOnlySpan<float> query, Span<float> scores)
    {
        ref float b = ref MemoryMarshal.GetReference(block);
        ref float q = ref MemoryMarshal.GetReference(query);
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        int f = 0;
        for (; f + 4 <= k; f += 4)
        {
            a0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref b, (nuint)(f * Width)), Vector512.Create(Unsafe.Add(ref q, f)), a0);
            a1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref b, (nuint)((f + 1) * Width)), Vector512.Create(Unsafe.Add(ref q, f + 1)), a1);
            a2 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref b, (nuint)((f + 2) * Width)), Vector512.Create(Unsafe.Add(ref q, f + 2)), a2);
            a3 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref b, (nuint)((f + 3) * Width)), Vector512.Create(Unsafe.Add(ref q, f + 3)), a3);
        }
        for (; f < k; f++)
        {
            a0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref b, (nuint)(f * Width)), Vector512.Create(Unsafe.Add(ref q, f)), a0);
        }
        ((a0 + a1) + (a2 + a3)).StoreUnsafe(ref MemoryMarshal.GetReference(scores));
    }

    /// <summary>A tile is two 8-lane halves, each with two accumulators (four chains in flight).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Score256(ReadOnlySpan<float> block, int k, ReadOnlySpan<float> query, Span<float> scores)
    {
        ref float b = ref MemoryMarshal.GetReference(block);
        ref float q = ref MemoryMarshal.GetReference(query);
        Vector256<float> lo0 = default, hi0 = default, lo1 = default, hi1 = default;
        int f = 0;
        for (; f + 2 <= k; f += 2)
        {
            var x0 = Vector256.Create(Unsafe.Add(ref q, f));
            var x1 = Vector256.Create(Unsafe.Add(ref q, f + 1));
            lo0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref b, (nuint)(f * Width)), x0, lo0);
            hi0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref b, (nuint)(f * Width + 8)), x0, hi0);
            lo1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref b, (nuint)((f + 1) * Width)), x1, lo1);
            hi1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref b, (nuint)((f + 1) * Width + 8)), x1, hi1);
        }
        if (f < k)
        {
            var x = Vector256.Create(Unsafe.Add(ref q, f));
            lo0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref b, (nuint)(f * Width)), x, lo0);
            hi0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref b, (nuint)(f * Width + 8)), x, hi0);
        }
        ref float s = ref MemoryMarshal.GetReference(scores);
        (lo0 + lo1).StoreUnsafe(ref s);
        (hi0 + hi1).StoreUnsafe(ref s, 8);
    }

    /// <summary>A tile is four 4-lane quarters, one accumulator each.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Score128(ReadOnlySpan<float> block, int k, ReadOnlySpan<float> query, Span<float> scores)
    {
        ref float b = ref MemoryMarshal.GetReference(block);
        ref float q = ref MemoryMarshal.GetReference(query);
        Vector128<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (int f = 0; f < k; f++)
        {
            var x = Vector128.Create(Unsafe.Add(ref q, f));
            nuint at = (nuint)(f * Width);
            a0 = Vector128.FusedMultiplyAdd(Vector128.LoadUnsafe(ref b, at), x, a0);
            a1 = Vector128.FusedMultiplyAdd(Vector128.LoadUnsafe(ref b, at + 4), x, a1);
            a2 = Vector128.FusedMultiplyAdd(Vector128.LoadUnsafe(ref b, at + 8), x, a2);
            a3 = Vector128.FusedMultiplyAdd(Vector128.LoadUnsafe(ref b, at + 12), x, a3);
        }
        ref float s = ref MemoryMarshal.GetReference(scores);
        a0.StoreUnsafe(ref s);
        a1.StoreUnsafe(ref s, 4);
        a2.StoreUnsafe(ref s, 8);
        a3.StoreUnsafe(ref s, 12);
    }
}
