using RecSys.Engine.Evaluation;
using RecSys.Engine.Sparse;
using RecSys.Tests.Als;

namespace RecSys.Tests.Evaluation;

public sealed class EvaluationTests
{
    [Fact]
    public void User_metrics_match_hand_computed_values()
    {
        // Ranked [5, 1, 9, 3], relevant {1, 3, 7}, K = 4: hits at ranks 2 and 4.
        var (p, r, ndcg, ap) = RankingMetrics.ForUser([5, 1, 9, 3], [1, 3, 7], 4);
        Assert.Equal(2.0 / 4, p, 12);
        Assert.Equal(2.0 / 3, r, 12);
        double dcg = 1 / Math.Log2(3) + 1 / Math.Log2(5);
        double idcg = 1 + 1 / Math.Log2(3) + 1 / Math.Log2(4);
        Assert.Equal(dcg / idcg, ndcg, 12);
        Assert.Equal((1.0 / 2 + 2.0 / 4) / 3, ap, 12);

        var perfect = RankingMetrics.ForUser([1, 3], [1, 3], 2);
        Assert.Equal((1.0, 1.0, 1.0, 1.0), perfect);
        var none = RankingMetrics.ForUser([4, 6], [1], 2);
        Assert.Equal((0.0, 0.0, 0.0, 0.0), none);
        // MAP normalises by min(K, |relevant|): one relevant item found first is a perfect AP.
        Assert.Equal(1.0, RankingMetrics.ForUser([2, 8, 9], [2], 3).AveragePrecision, 12);
    }

    [Fact]
    public void Auc_matches_pair_counting_with_ties_and_excludes_training_items()
    {
        float[] scores = [0.9f, 0.1f, 0.5f, 0.5f, 0.7f, 0.3f];
        int[] train = [0];
        int[] relevant = [2, 4];
        // Negatives: 1 (0.1), 3 (0.5), 5 (0.3). Pairs: item 2 (0.5) beats 1 and 5, ties 3 → 2.5; item 4 (0.7) beats all → 3.
        Assert.Equal(5.5 / 6, RankingMetrics.UserAuc(scores, train, relevant), 12);
    }

    [Fact]
    public void Evaluator_scores_a_perfect_oracle_at_one_and_averages_over_test_users()
    {
        var train = CsrBuilder.FromCoo(3, 5, [0, 1, 2], [0, 1, 2], [1, 1, 1]);
        var test = CsrBuilder.FromCoo(3, 5, [0, 1], [3, 4], [1, 1]);
        Evaluator.Scorer oracle = (u, scores) =>
        {
            scores.Clear();
            foreach (int i in test.RowIndices(u)) scores[i] = 1;
        };
        var m = Evaluator.Evaluate(oracle, train, test, k: 1);
        Assert.Equal(2, m.Users);
        Assert.Equal(1.0, m.Precision);
        Assert.Equal(1.0, m.Recall);
        Assert.Equal(1.0, m.Ndcg);
        Assert.Equal(1.0, m.Map);
        Assert.Equal(1.0, m.Auc);
    }

    [Fact]
    public void Evaluation_can_sample_users_deterministically()
    {
        var m = AlsTestData.Random(300, 50, 3000, 9);
        var split = Splits.Random(m, 0.3, 1);
        var scorer = Evaluator.Popularity(split.Train);
        var all = Evaluator.Evaluate(scorer, split.Train, split.Test, 5);
        var sample = Evaluator.Evaluate(scorer, split.Train, split.Test, 5, maxUsers: 40, seed: 3);
        Assert.Equal(40, sample.Users);
        Assert.True(all.Users > 40);
        Assert.Equal(sample, Evaluator.Evaluate(scorer, split.Train, split.Test, 5, maxUsers: 40, seed: 3));
        Assert.Equal(all, Evaluator.Evaluate(scorer, split.Train, split.Test, 5, maxUsers: all.Users + 10));
    }

    [Fact]
    public void Random_split_partitions_every_interaction_once()
    {
        var m = AlsTestData.Random(200, 100, 3000, 7);
        var s = Splits.Random(m, 0.2, 42);
        Assert.Equal(m.Nnz, s.Train.Nnz + s.Test.Nnz);
        Assert.InRange(s.Test.Nnz, m.Nnz * 0.15, m.Nnz * 0.25);
        AssertPartition(m, s);
        Assert.Equal(s.Test.ColIndices, Splits.Random(m, 0.2, 42).Test.ColIndices);
        Assert.NotEqual(s.Test.ColIndices, Splits.Random(m, 0.2, 43).Test.ColIndices);
    }

    [Fact]
    public void Per_user_and_leave_k_out_splits_hold_out_per_user()
    {
        var m = AlsTestData.Random(100, 80, 2000, 8);
        var s = Splits.PerUser(m, 0.25, 1);
        AssertPartition(m, s);
        for (int u = 0; u < m.Rows; u++)
        {
            int n = m.RowLength(u);
            int expected = n < 2 ? 0 : Math.Clamp((int)Math.Round(0.25 * n), 1, n - 1);
            Assert.Equal(expected, s.Test.RowLength(u));
        }
        var l = Splits.LeaveKOut(m, 2, 1);
        AssertPartition(m, l);
        for (int u = 0; u < m.Rows; u++) Assert.Equal(m.RowLength(u) > 2 ? 2 : 0, l.Test.RowLength(u));
    }

    [Fact]
    public void Bad_split_parameters_are_refused()
    {
        var m = AlsTestData.Random(10, 10, 30, 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => Splits.Random(m, 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Splits.Random(m, 1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Splits.LeaveKOut(m, 0, 1));
    }

    private static void AssertPartition(CsrMatrix m, Split s)
    {
        for (int u = 0; u < m.Rows; u++)
        {
            var union = s.Train.RowIndices(u).ToArray().Concat(s.Test.RowIndices(u).ToArray()).Order().ToArray();
            Assert.Equal(m.RowIndices(u).ToArray(), union);
        }
    }
}
