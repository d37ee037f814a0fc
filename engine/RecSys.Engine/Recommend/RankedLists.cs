using RecSys.Engine.Ann;
using RecSys.Engine.Compute;

namespace RecSys.Engine.Recommend;

/// <summary>
/// One precomputed ranking per row (a user's top-N, a track's similar tracks), up to
/// <see cref="Length"/> long, best first: an answer for a limit up to that length is a copy of a
/// prefix, O(1) per request. Rows shorter than the length (a small catalog, many exclusions) keep
/// what their search found. Saved beside the model by <see cref="RankedListsFile"/>.
/// </summary>
public sealed class RankedLists
{
    private readonly int[] _indices;
    private readonly float[] _scores;
    private readonly int[] _counts;

    internal RankedLists(int length, int[] indices, float[] scores, int[] counts)
    {
        if (length < 1 || indices.Length != (long)counts.Length * length || scores.Length != indices.Length)
        {
            throw new ArgumentException("list arrays disagree with the row count and length");
        }
        Length = length;
        _indices = indices;
        _scores = scores;
        _counts = counts;
    }

    public int Rows => _counts.Length;

    /// <summary>The longest answer kept per row.</summary>
    public int Length { get; }

    /// <summary>Memory the lists hold.</summary>
    public long Bytes => 4L * (_indices.Length + _scores.Length + _counts.Length);

    internal ReadOnlySpan<int> Indices => _indices;
    internal ReadOnlySpan<float> Scores => _scores;
    internal ReadOnlySpan<int> Counts => _counts;

    /// <summary>
    /// Ranks every row with <paramref name="rank"/> (asked for <paramref name="length"/> results), in
    /// parallel; deterministic whatever the thread count, since each row is ranked on its own.
    /// </summary>
    public static RankedLists Build(int rows, int length, Func<int, int, ScoredIndex[]> rank, int threads)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        var indices = new int[(long)rows * length];
        var scores = new float[indices.Length];
        var counts = new int[rows];
        RowScheduler.Run(rows, Math.Max(1, threads), 64, () => 0, (start, end, _) =>
        {
            for (int row = start; row < end; row++)
            {
                var ranked = rank(row, length);
                int n = Math.Min(ranked.Length, length);
                for (int i = 0; i < n; i++)
                {
                    indices[(long)row * length + i] = ranked[i].Index;
                    scores[(long)row * length + i] = ranked[i].Score;
                }
                counts[row] = n;
            }
        });
        return new RankedLists(length, indices, scores, counts);
    }

    /// <summary>
    /// The first <paramref name="k"/> of a row's ranking; false when <paramref name="k"/> is longer than
    /// what was kept (the caller searches). A row that kept fewer than <see cref="Length"/> has no more to find.
    /// </summary>
    public bool TryGet(int row, int k, out ScoredIndex[] ranked)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)row, (uint)_counts.Length, nameof(row));
        if (k > Length)
        {
            ranked = [];
            return false;
        }
        int n = Math.Min(Math.Max(k, 0), _counts[row]);
        ranked = new ScoredIndex[n];
        long at = (long)row * Length;
        for (int i = 0; i < n; i++) ranked[i] = new ScoredIndex(_indices[at + i], _scores[at + i]);
        return true;
    }
}
