using RecSys.Engine.Ann;
using RecSys.Engine.Compute;
using RecSys.Engine.Recommend;
using RecSys.Engine.Sparse;
using RecSys.Engine.Training;

namespace RecSys.Engine.Evaluation;

/// <summary>
/// Scores every user that has held-out items: top-K of all items not in their training set, compared
/// with the test set. Works for any scorer, so ALS and the popularity baseline are measured the same way.
/// </summary>
public static class Evaluator
{
    /// <summary>Fills scores (one per item) for a user.</summary>
    public delegate void Scorer(int user, Span<float> scores);

    /// <param name="maxUsers">
    /// Evaluate at most this many users (a seeded sample of those with held-out items; 0 = all). Each
    /// evaluated user costs a scan of every item, so large catalogs sample.
    /// </param>
    public static RankingMetrics Evaluate(Scorer scorer, CsrMatrix train, CsrMatrix test, int k, int threads = 0, int maxUsers = 0, ulong seed = 42)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        int[] candidates = Enumerable.Range(0, test.Rows).Where(u => test.RowLength(u) > 0).ToArray();
        if (maxUsers > 0 && candidates.Length > maxUsers)
        {
            var rng = new Data.SplitMix(seed, 0xE7A1);
            for (int i = 0; i < maxUsers; i++)
            {
                int j = i + rng.NextInt(candidates.Length - i);
                (candidates[i], candidates[j]) = (candidates[j], candidates[i]);
            }
            candidates = candidates[..maxUsers];
            Array.Sort(candidates);
        }
        int users = candidates.Length;
        var sums = new double[users, 5];
        var lists = new int[users][];
        var evaluated = new bool[users];
        RowScheduler.Run(users, threads > 0 ? threads : Environment.ProcessorCount, 16,
            () => (Scores: new float[train.Cols], Heap: new TopK(k)),
            (start, end, s) =>
            {
                for (int slot = start; slot < end; slot++)
                {
                    int u = candidates[slot];
                    var relevant = test.RowIndices(u);
                    if (relevant.IsEmpty) continue;
                    var seen = train.RowIndices(u);
                    scorer(u, s.Scores);
                    double auc = RankingMetrics.UserAuc(s.Scores, seen, relevant);
                    foreach (int i in seen) s.Scores[i] = float.NegativeInfinity;
                    s.Heap.Clear();
                    s.Heap.PushAll(s.Scores);
                    int[] ranked = s.Heap.Drain().Select(r => r.Index).ToArray();
                    var (p, r, ndcg, ap) = RankingMetrics.ForUser(ranked, relevant, k);
                    lists[slot] = ranked;
                    sums[slot, 0] = p;
                    sums[slot, 1] = r;
                    sums[slot, 2] = ndcg;
                    sums[slot, 3] = ap;
                    sums[slot, 4] = auc;
                    evaluated[slot] = true;
                }
            });
        int n = evaluated.Count(e => e);
        double Mean(int c)
        {
            double total = 0;
            for (int u = 0; u < users; u++) if (evaluated[u]) total += sums[u, c];
            return n == 0 ? 0 : total / n;
        }
        var evaluatedLists = Enumerable.Range(0, users).Where(u => evaluated[u]).Select(u => lists[u]).ToList();
        return new RankingMetrics(k, Mean(0), Mean(1), Mean(2), Mean(3), Mean(4), n) { Beyond = BeyondAccuracy.Measure(evaluatedLists, train, threads) };
    }

    /// <summary>The ALS scorer: dot product of the user's factors with every item's.</summary>
    public static Scorer Als(float[] userFactors, float[] itemFactors, int factors) =>
        (user, scores) => Kernels.MatVec(itemFactors, factors, userFactors.AsSpan(user * factors, factors), scores);

    /// <summary>The popularity baseline: every user gets items ranked by how many training users have them.</summary>
    public static Scorer Popularity(CsrMatrix train)
    {
        float[] popularity = RecSys.Engine.Training.ModelBuilder.Popularity(train);
        return (_, scores) => popularity.CopyTo(scores);
    }
}
