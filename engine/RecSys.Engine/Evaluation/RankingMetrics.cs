namespace RecSys.Engine.Evaluation;

/// <summary>Ranking metrics at K, averaged over the evaluated users (docs/evaluation.md has the definitions).</summary>
public sealed record RankingMetrics(int K, double Precision, double Recall, double Ndcg, double Map, double Auc, int Users)
{
    /// <summary>Coverage, popularity and diversity of the same top-K lists (null where not measured).</summary>
    public BeyondAccuracy? Beyond { get; init; }

    /// <summary>The metrics of one user's ranked list against their held-out items.</summary>
    /// <param name="ranked">The top-K recommended item indices, best first.</param>
    /// <param name="relevant">The user's held-out items, sorted ascending.</param>
    public static (double Precision, double Recall, double Ndcg, double AveragePrecision) ForUser(ReadOnlySpan<int> ranked, ReadOnlySpan<int> relevant, int k)
    {
        if (relevant.IsEmpty) throw new ArgumentException("a user without held-out items cannot be evaluated");
        int hits = 0;
        double dcg = 0, precisionSum = 0;
        int n = Math.Min(k, ranked.Length);
        for (int rank = 0; rank < n; rank++)
        {
            if (relevant.BinarySearch(ranked[rank]) >= 0)
            {
                hits++;
                dcg += 1.0 / Math.Log2(rank + 2);
                precisionSum += (double)hits / (rank + 1);
            }
        }
        int ideal = Math.Min(k, relevant.Length);
        double idcg = 0;
        for (int rank = 0; rank < ideal; rank++) idcg += 1.0 / Math.Log2(rank + 2);
        return ((double)hits / k, (double)hits / relevant.Length, dcg / idcg, precisionSum / ideal);
    }

    /// <summary>
    /// AUC of one user: the probability that a held-out item scores above a candidate the user never
    /// had (ties count half). Training items are excluded from both sides.
    /// </summary>
    /// <param name="scores">Scores of all items.</param>
    /// <param name="train">The user's training items, sorted.</param>
    /// <param name="relevant">The user's held-out items, sorted.</param>
    public static double UserAuc(ReadOnlySpan<float> scores, ReadOnlySpan<int> train, ReadOnlySpan<int> relevant)
    {
        var positives = new float[relevant.Length];
        for (int p = 0; p < relevant.Length; p++) positives[p] = scores[relevant[p]];
        Array.Sort(positives);
        double correct = 0;
        long negatives = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            if (train.BinarySearch(i) >= 0 || relevant.BinarySearch(i) >= 0) continue;
            negatives++;
            float s = scores[i];
            int below = LowerBound(positives, s);        // positives scoring < s
            int atOrBelow = UpperBound(positives, s);    // positives scoring <= s
            correct += positives.Length - atOrBelow + 0.5 * (atOrBelow - below);
        }
        return negatives == 0 ? 1.0 : correct / ((double)negatives * positives.Length);
    }

    private static int LowerBound(float[] sorted, float v)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] < v) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    private static int UpperBound(float[] sorted, float v)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] <= v) lo = mid + 1; else hi = mid;
        }
        return lo;
    }
}
