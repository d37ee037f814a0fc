using RecSys.Engine.Compute;
using RecSys.Engine.Sparse;

namespace RecSys.Engine.Evaluation;

/// <summary>
/// What accuracy does not show about a set of top-K lists: how much of the catalog they use, how
/// popular what they recommend is, and how alike a list's tracks are. A tuning that wins NDCG by
/// recommending only hits shows here as low coverage, a high popularity percentile and low diversity.
/// All three are measured on the training interactions, so every scorer (ALS, popularity) is judged
/// by the same yardstick. Coverage depends on how many lists there are: compare runs that evaluated
/// the same users. A value that cannot be measured (no item recommended, no list of two) is null.
/// </summary>
public sealed record BeyondAccuracy(double Coverage, double? PopularityPercentile, double? Diversity)
{
    /// <param name="lists">The recommended item indices of each evaluated user, best first.</param>
    /// <param name="train">The training interactions (users × items).</param>
    /// <param name="threads">Worker threads for the diversity pairs (0 = all cores).</param>
    public static BeyondAccuracy Measure(IReadOnlyList<int[]> lists, CsrMatrix train, int threads = 0)
    {
        if (lists.Count == 0 || train.Cols == 0) return new BeyondAccuracy(0, null, null);
        var itemUsers = train.Transpose();
        double[] percentile = PopularityPercentiles(itemUsers);
        var recommended = new HashSet<int>();
        double percentileSum = 0;
        long items = 0;
        foreach (int[] list in lists)
        {
            foreach (int i in list)
            {
                recommended.Add(i);
                percentileSum += percentile[i];
                items++;
            }
        }
        // The pairs' listener intersections are the cost (popular items have long lists): on all cores,
        // summed in list order afterwards so the result does not depend on scheduling.
        var diversity = new double[lists.Count];
        RowScheduler.Run(lists.Count, threads > 0 ? threads : Environment.ProcessorCount, 16, () => 0, (start, end, _) =>
        {
            for (int u = start; u < end; u++) diversity[u] = lists[u].Length < 2 ? double.NaN : IntraListDiversity(lists[u], itemUsers);
        });
        double diversitySum = 0;
        int listsWithPairs = 0;
        foreach (double d in diversity)
        {
            if (double.IsNaN(d)) continue;
            diversitySum += d;
            listsWithPairs++;
        }
        return new BeyondAccuracy(
            (double)recommended.Count / train.Cols,
            items == 0 ? null : percentileSum / items,
            listsWithPairs == 0 ? null : diversitySum / listsWithPairs);
    }

    /// <summary>
    /// Each item's popularity (training users) as a percentile of the catalog in [0, 1]: the share of
    /// the other items that are less popular, ties counted half (the mid-rank), so the least popular item is near 0, the
    /// most popular near 1, and a catalog of equals is 0.5 throughout.
    /// </summary>
    /// <param name="itemUsers">Items × users (the training matrix transposed).</param>
    public static double[] PopularityPercentiles(CsrMatrix itemUsers)
    {
        int n = itemUsers.Rows;
        var order = Enumerable.Range(0, n).OrderBy(itemUsers.RowLength).ToArray();
        var result = new double[n];
        for (int start = 0; start < n;)
        {
            int end = start;
            int count = itemUsers.RowLength(order[start]);
            while (end < n && itemUsers.RowLength(order[end]) == count) end++;
            // Items below the tie group, plus half the others in it.
            double value = n == 1 ? 0.5 : (start + (end - start - 1) / 2.0) / (n - 1);
            for (int i = start; i < end; i++) result[order[i]] = value;
            start = end;
        }
        return result;
    }

    /// <summary>
    /// Mean over the list's pairs of 1 − cosine of the two items' listener sets
    /// (|Uᵢ ∩ Uⱼ| / √(|Uᵢ|·|Uⱼ|)): 1 when no listener has both, 0 when they have the same listeners.
    /// An item nobody had in training counts as unlike every other (nothing says it is alike).
    /// </summary>
    /// <param name="itemUsers">Items × users (the training matrix transposed).</param>
    public static double IntraListDiversity(ReadOnlySpan<int> list, CsrMatrix itemUsers)
    {
        double sum = 0;
        int pairs = 0;
        for (int a = 0; a < list.Length; a++)
        {
            for (int b = a + 1; b < list.Length; b++)
            {
                sum += 1 - ListenerCosine(itemUsers.RowIndices(list[a]), itemUsers.RowIndices(list[b]));
                pairs++;
            }
        }
        return pairs == 0 ? 0 : sum / pairs;
    }

    private static double ListenerCosine(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        if (a.IsEmpty || b.IsEmpty) return 0;
        int shared = 0;
        for (int i = 0, j = 0; i < a.Length && j < b.Length;)
        {
            if (a[i] == b[j])
            {
                shared++;
                i++;
                j++;
            }
            else if (a[i] < b[j]) i++;
            else j++;
        }
        return shared / Math.Sqrt((double)a.Length * b.Length);
    }
}
