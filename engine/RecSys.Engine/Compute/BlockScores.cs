using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RecSys.Engine.Compute;

/// <summary>
/// Scores of <see cref="Users"/> queries against a pair of <see cref="TiledScores"/> tiles (32 rows) at
/// once: a small matrix product whose tile loads are shared by four queries, where a one-query scan
/// spends a load per multiply-add. Batch top-N (<c>BatchRecommender</c>) runs on it; its kernels are
/// optimised at once, as a batch command ends before tiered compilation would promote them.
/// </summary>
internal static class BlockScores
{
    public const int Users = 4;
    public const int Rows = 2 * TiledScores.Width;

    /// <summary>
    /// scores[u·<see cref="Rows"/> + i] = row (tile·Width + i) · queries[u] for the rows of tiles
    /// <paramref name="tile"/> and <paramref name="tile"/> + 1; queries are <see cref="Users"/> rows of k.
    /// </summary>
    public static void Score(ReadOnlySpan<float> tiles, int tile, int k, ReadOnlySpan<float> queries, Span<float> scores)
    {
        if (queries.Length < Users * k) throw new ArgumentException($"queries hold {queries.Length} values, {Users} rows of {k} are needed", nameof(queries));
        if (scores.Length < Users * Rows) throw new ArgumentException($"scores hold {scores.Length} values, a block has {Users * Rows}", nameof(scores));
        if (tile < 0 || (long)(tile + 2) * TiledScores.Width * k > tiles.Length) throw new ArgumentException($"tiles {tile} and {tile + 1} are not both inside the {tiles.Length / (TiledScores.Width * k)} tiles", nameof(tile));
        var block = tiles.Slice(tile * TiledScores.Width * k, Rows * k);
        if (Vector512.IsHardwareAccelerated)
        {
            Score512(block, k, queries, scores);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Score256(block, k, queries, scores);
        }
        else
        {
            ScoreEach(block, k, queries, scores);
        }
    }

    /// <summary>Without 256-bit vectors: each query through the one-query kernel (its 128-bit or scalar path).</summary>
    internal static void ScoreEach(ReadOnlySpan<float> block, int k, ReadOnlySpan<float> queries, Span<float> scores)
    {
        for (int u = 0; u < Users; u++)
        {
            var query = queries.Slice(u * k, k);
            TiledScores.Score(block, 0, k, query, scores.Slice(u * Rows, TiledScores.Width));
            TiledScores.Score(block, 1, k, query, scores.Slice(u * Rows + TiledScores.Width, TiledScores.Width));
        }
    }

    internal static void ScoreScalar(ReadOnlySpan<float> block, int k, ReadOnlySpan<float> queries, Span<float> scores)
    {
        for (int u = 0; u < Users; u++)
        {
            var query = queries.Slice(u * k, k);
            TiledScores.ScoreScalar(block, k, query, scores.Slice(u * Rows, TiledScores.Width));
            TiledScores.ScoreScalar(block[(TiledScores.Width * k)..], k, query, scores.Slice(u * Rows + TiledScores.Width, TiledScores.Width));
        }
    }

    /// <summary>Eight accumulators (four queries × two tiles): two tile loads and four broadcasts feed eight multiply-adds.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Score512(ReadOnlySpan<float> block, int k, ReadOnlySpan<float> queries, Span<float> scores)
    {
        ref float b0 = ref MemoryMarshal.GetReference(block);
        ref float b1 = ref Unsafe.Add(ref b0, TiledScores.Width * k);
        ref float q0 = ref MemoryMarshal.GetReference(queries);
        ref float q1 = ref Unsafe.Add(ref q0, k);
        ref float q2 = ref Unsafe.Add(ref q0, 2 * k);
        ref float q3 = ref Unsafe.Add(ref q0, 3 * k);
        Vector512<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
        for (int f = 0; f < k; f++)
        {
            nuint at = (nuint)(f * TiledScores.Width);
            var t0 = Vector512.LoadUnsafe(ref b0, at);
            var t1 = Vector512.LoadUnsafe(ref b1, at);
            var x = Vector512.Create(Unsafe.Add(ref q0, f));
            a00 = Vector512.FusedMultiplyAdd(t0, x, a00);
            a01 = Vector512.FusedMultiplyAdd(t1, x, a01);
            x = Vector512.Create(Unsafe.Add(ref q1, f));
            a10 = Vector512.FusedMultiplyAdd(t0, x, a10);
            a11 = Vector512.FusedMultiplyAdd(t1, x, a11);
            x = Vector512.Create(Unsafe.Add(ref q2, f));
            a20 = Vector512.FusedMultiplyAdd(t0, x, a20);
            a21 = Vector512.FusedMultiplyAdd(t1, x, a21);
            x = Vector512.Create(Unsafe.Add(ref q3, f));
            a30 = Vector512.FusedMultiplyAdd(t0, x, a30);
            a31 = Vector512.FusedMultiplyAdd(t1, x, a31);
        }
        ref float s = ref MemoryMarshal.GetReference(scores);
        a00.StoreUnsafe(ref s, 0 * Rows);
        a01.StoreUnsafe(ref s, 0 * Rows + 16);
        a10.StoreUnsafe(ref s, 1 * Rows);
        a11.StoreUnsafe(ref s, 1 * Rows + 16);
        a20.StoreUnsafe(ref s, 2 * Rows);
        a21.StoreUnsafe(ref s, 2 * Rows + 16);
        a30.StoreUnsafe(ref s, 3 * Rows);
        a31.StoreUnsafe(ref s, 3 * Rows + 16);
    }

    /// <summary>One tile at a time, as two 8-lane halves × four queries: eight accumulators in sixteen registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Score256(ReadOnlySpan<float> block, int k, ReadOnlySpan<float> queries, Span<float> scores)
    {
        ref float q0 = ref MemoryMarshal.GetReference(queries);
        ref float q1 = ref Unsafe.Add(ref q0, k);
        ref float q2 = ref Unsafe.Add(ref q0, 2 * k);
        ref float q3 = ref Unsafe.Add(ref q0, 3 * k);
        ref float s = ref MemoryMarshal.GetReference(scores);
        for (int t = 0; t < 2; t++)
        {
            ref float b = ref Unsafe.Add(ref MemoryMarshal.GetReference(block), t * TiledScores.Width * k);
            Vector256<float> l0 = default, h0 = default, l1 = default, h1 = default, l2 = default, h2 = default, l3 = default, h3 = default;
            for (int f = 0; f < k; f++)
            {
                nuint at = (nuint)(f * TiledScores.Width);
                var lo = Vector256.LoadUnsafe(ref b, at);
                var hi = Vector256.LoadUnsafe(ref b, at + 8);
                var x = Vector256.Create(Unsafe.Add(ref q0, f));
                l0 = Vector256.FusedMultiplyAdd(lo, x, l0);
                h0 = Vector256.FusedMultiplyAdd(hi, x, h0);
                x = Vector256.Create(Unsafe.Add(ref q1, f));
                l1 = Vector256.FusedMultiplyAdd(lo, x, l1);
                h1 = Vector256.FusedMultiplyAdd(hi, x, h1);
                x = Vector256.Create(Unsafe.Add(ref q2, f));
                l2 = Vector256.FusedMultiplyAdd(lo, x, l2);
                h2 = Vector256.FusedMultiplyAdd(hi, x, h2);
                x = Vector256.Create(Unsafe.Add(ref q3, f));
                l3 = Vector256.FusedMultiplyAdd(lo, x, l3);
                h3 = Vector256.FusedMultiplyAdd(hi, x, h3);
            }
            nuint o = (nuint)(t * TiledScores.Width);
            l0.StoreUnsafe(ref s, o + 0 * Rows);
            h0.StoreUnsafe(ref s, o + 0 * Rows + 8);
            l1.StoreUnsafe(ref s, o + 1 * Rows);
            h1.StoreUnsafe(ref s, o + 1 * Rows + 8);
            l2.StoreUnsafe(ref s, o + 2 * Rows);
            h2.StoreUnsafe(ref s, o + 2 * Rows + 8);
            l3.StoreUnsafe(ref s, o + 3 * Rows);
            h3.StoreUnsafe(ref s, o + 3 * Rows + 8);
        }
    }
}
