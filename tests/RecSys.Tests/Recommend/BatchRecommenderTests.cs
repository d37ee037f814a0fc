using RecSys.Engine.Ann;
using RecSys.Engine.Data;
using RecSys.Engine.Model;
using RecSys.Engine.Recommend;
using RecSys.Engine.Sparse;

namespace RecSys.Tests.Recommend;

/// <summary>
/// Batch top-N against brute force in double precision (the oracle), heard tracks excluded: odd and
/// round user, item and factor counts, skewed norms (where pruning ends scans early) and flat ones
/// (where it cannot), k past the catalog. Scores agree within abs 1e-5·√k + rel 1e-5; an item may differ
/// from the oracle's only where the two scores tie within that tolerance.
/// </summary>
[Trait("Category", "Simd")]
public sealed class BatchRecommenderTests
{
    /// <summary>Factors with norms ∝ rank^-skew (popularity-skewed catalogs) and random heard sets.</summary>
    internal static RecModel Model(int users, int items, int factors, double skew, ulong seed)
    {
        var rng = new SplitMix(seed);
        float[] Vectors(int n, double s)
        {
            var v = new float[n * factors];
            for (int i = 0; i < n; i++)
            {
                double scale = Math.Pow(1 + rng.NextDouble() * n, -s);
                for (int d = 0; d < factors; d++) v[i * factors + d] = (float)(scale * rng.NextGaussian());
            }
            return v;
        }
        var userFactors = Vectors(users, 0);
        var itemFactors = Vectors(items, skew);
        var rowPtr = new int[users + 1];
        var cols = new List<int>();
        for (int u = 0; u < users; u++)
        {
            // Some users heard nothing, some a good share of a small catalog.
            int heard = (int)(rng.NextDouble() * Math.Min(items, 40));
            cols.AddRange(Enumerable.Range(0, heard).Select(_ => (int)(rng.NextDouble() * items)).Distinct().Order());
            rowPtr[u + 1] = cols.Count;
        }
        var userItems = new CsrMatrix(users, items, rowPtr, [.. cols], [.. cols.Select(_ => 1f)]);
        return new RecModel(factors, userFactors, itemFactors,
            [.. Enumerable.Range(0, users).Select(u => 1000L + u)], [.. Enumerable.Range(0, items).Select(i => 5000L + i)], userItems: userItems);
    }

    internal static void AssertOracle(RecModel m, int user, int k, bool excludeHeard, ScoredIndex[] got, string what)
    {
        var heard = excludeHeard ? m.UserItems!.RowIndices(user).ToArray() : [];
        var scores = Enumerable.Range(0, m.ItemCount).Select(i => Enumerable.Range(0, m.Factors).Sum(f => (double)m.ItemFactors[i * m.Factors + f] * m.UserFactors[user * m.Factors + f])).ToArray();
        var expected = Enumerable.Range(0, m.ItemCount).Where(i => !heard.Contains(i)).OrderByDescending(i => scores[i]).ThenBy(i => i).Take(k).ToArray();
        Assert.True(expected.Length == got.Length, $"{what}: {got.Length} results, expected {expected.Length}");
        Assert.Equal(got.Length, got.Select(r => r.Index).Distinct().Count());
        double abs = 1e-5 * Math.Sqrt(m.Factors), rel = 1e-5;
        for (int r = 0; r < got.Length; r++)
        {
            Assert.DoesNotContain(got[r].Index, heard);
            Tolerance.AssertClose(scores[got[r].Index], got[r].Score, abs, rel, $"{what}: rank {r} item {got[r].Index}'s score");
            if (got[r].Index != expected[r])
            {
                Assert.True(Tolerance.Close(scores[expected[r]], scores[got[r].Index], 2 * abs, 2 * rel),
                    $"{what}: rank {r} is item {got[r].Index} ({scores[got[r].Index]:R}), the oracle's is {expected[r]} ({scores[expected[r]]:R})");
            }
            if (r > 0) Assert.True(got[r - 1].Score > got[r].Score || (got[r - 1].Score == got[r].Score && got[r - 1].Index < got[r].Index), $"{what}: ranks {r - 1} and {r} out of order");
        }
    }

    [Theory]
    [InlineData(1, 1, 1, 0.0, 5)]
    [InlineData(3, 17, 7, 1.0, 5)]
    [InlineData(5, 33, 64, 0.0, 10)]
    [InlineData(17, 100, 13, 1.2, 10)]
    [InlineData(64, 512, 32, 0.0, 20)]
    [InlineData(61, 1001, 64, 1.0, 20)]
    [InlineData(9, 30, 16, 0.5, 50)]
    [InlineData(21, 2500, 128, 0.0, 10)] // five 256 KB chunks of items, every item scored
    [InlineData(37, 3000, 96, 1.0, 20)]
    public void Every_users_top_k_is_the_oracles(int users, int items, int factors, double skew, int k)
    {
        var m = Model(users, items, factors, skew, (ulong)(users * 7919 + items));
        foreach (int threads in new[] { 1, 2 })
        {
            foreach (bool excludeHeard in new[] { true, false })
            {
                var all = Enumerable.Range(0, users).ToArray();
                var got = new BatchRecommender(m).Recommend(all, k, excludeHeard, threads);
                for (int u = 0; u < users; u++) AssertOracle(m, u, k, excludeHeard, got[u], $"user {u} (threads {threads}, excludeHeard {excludeHeard})");
            }
        }
    }

    [Fact]
    public void Users_in_any_order_and_repeated_get_their_own_lists_and_the_same_every_time()
    {
        var m = Model(40, 300, 24, 0.8, 3);
        var batch = new BatchRecommender(m);
        int[] users = [39, 0, 17, 17, 5, 22, 1];
        var first = batch.Recommend(users, 10, threads: 2);
        var again = batch.Recommend(users, 10, threads: 1);
        for (int i = 0; i < users.Length; i++)
        {
            AssertOracle(m, users[i], 10, true, first[i], $"users[{i}] = {users[i]}");
            Assert.Equal(first[i], again[i]);
        }
        Assert.Equal(first[2], first[3]);
    }

    [Fact]
    public void Pruning_scans_less_on_a_skewed_catalog_and_everything_on_a_flat_one()
    {
        var skewed = Model(64, 4000, 16, 1.5, 11);
        var flat = Model(64, 4000, 16, 0.0, 11);
        int[] users = Enumerable.Range(0, 64).ToArray();
        var onSkewed = new BatchRecommender(skewed);
        onSkewed.Recommend(users, 10);
        var onFlat = new BatchRecommender(flat);
        onFlat.Recommend(users, 10);
        Assert.True(onSkewed.ScoredItems < 64L * 4000 / 4, $"skewed: {onSkewed.ScoredItems} items scored");
        Assert.True(onFlat.ScoredItems > 64L * 4000 * 9 / 10, $"flat: {onFlat.ScoredItems} items scored");
    }

    [Fact]
    public void Bad_arguments_are_refused()
    {
        var m = Model(4, 10, 3, 0, 1);
        var batch = new BatchRecommender(m);
        Assert.Throws<ArgumentOutOfRangeException>(() => batch.Recommend([0], 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => batch.Recommend([4], 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchRecommender(m, threads: -1));
        Assert.Empty(batch.Recommend([], 5));
        // RankAll checks every user before it writes the first slice.
        var users = Enumerable.Range(0, 5000).Select(i => i % 4).Append(4).ToArray();
        int written = 0;
        Assert.Throws<ArgumentOutOfRangeException>(() => batch.RankAll(users, 3, true, (_, _) => written++));
        Assert.Equal(0, written);
    }

    /// <summary>
    /// Exact ties where scan order (falling norm) and index order disagree: item 0 (1, 0) and item 1
    /// (1, 3) both score exactly 1 for the user (1, 0), item 1 is scanned first, and the lower index wins.
    /// </summary>
    internal static RecModel Ties() => new(2, [1f, 0f], [1f, 0f, 1f, 3f, 0.5f, 0f], [7L], [10L, 11L, 12L]);

    [Fact]
    public void Exact_ties_go_to_the_lower_index()
    {
        var got = new BatchRecommender(Ties()).Recommend([0], 2);
        Assert.Equal([new ScoredIndex(0, 1f), new ScoredIndex(1, 1f)], got[0]);
        Assert.Equal(new ScoredIndex(0, 1f), new BatchRecommender(Ties()).Recommend([0], 1)[0].Single());
    }

    [Fact]
    public void Candidate_masks_match_the_scalar_test_on_every_width()
    {
        var rng = new SplitMix(21);
        for (int trial = 0; trial < 200; trial++)
        {
            int length = trial % 3 == 0 ? 1 + trial % 32 : 32;
            var scores = Enumerable.Range(0, length).Select(_ => rng.NextFloat() * 2 - 1).ToArray();
            if (trial % 7 == 0) scores[trial % length] = float.NaN;
            if (trial % 5 == 0) scores[(trial + 3) % length] = float.NegativeInfinity;
            float bar = trial % 11 == 0 ? float.NegativeInfinity : scores[(trial * 13) % length];
            uint expected = 0;
            for (int i = 0; i < length; i++) if (!(scores[i] < bar)) expected |= 1u << i;
            Assert.Equal(expected, BatchRecommender.CandidatesScalar(scores, bar));
            Assert.Equal(expected, BatchRecommender.Candidates(scores, bar));
        }
    }
}
