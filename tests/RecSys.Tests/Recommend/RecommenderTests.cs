using RecSys.Engine.Als;
using RecSys.Engine.Ann;
using RecSys.Engine.Data;
using RecSys.Engine.Model;
using RecSys.Engine.Recommend;
using RecSys.Engine.Sparse;
using RecSys.Engine.Training;

namespace RecSys.Tests.Recommend;

public sealed class RecommenderTests
{
    private static readonly Lazy<RecModel> Trained = new(() =>
    {
        var data = DemoCatalog.Generate(new DemoOptions { Users = 400, Tracks = 1500, Plays = 40_000, Seed = 5 }).ToInteractions();
        var matrix = InteractionMatrix.Build(data.Table);
        var options = new AlsOptions { Factors = 16, Iterations = 8 };
        return ModelBuilder.Build(matrix, ModelBuilder.Train(matrix.UserItems, options), options, data.Source);
    });

    private static float[] BruteScores(RecModel m, float[] x) =>
        Enumerable.Range(0, m.ItemCount).Select(i => Enumerable.Range(0, m.Factors).Sum(j => m.ItemFactors[i * m.Factors + j] * x[j])).ToArray();

    [Fact]
    public void User_top_n_is_the_exact_ranking_without_heard_tracks()
    {
        var m = Trained.Value;
        var rec = new Recommender(m);
        for (int u = 0; u < 30; u++)
        {
            var heard = m.UserItems!.RowIndices(u).ToArray();
            var scores = BruteScores(m, m.UserVector(u).ToArray());
            var expected = Enumerable.Range(0, m.ItemCount).Where(i => !heard.Contains(i))
                .OrderByDescending(i => scores[i]).ThenBy(i => i).Take(10).ToArray();
            var got = rec.RecommendUser(u, 10);
            Assert.Equal(10, got.Length);
            Assert.Empty(got.Select(r => r.Index).Intersect(heard));
            // Scores agree within float noise; ranks may swap only between near-equal scores.
            for (int r = 0; r < 10; r++) Tolerance.AssertClose(scores[expected[r]], got[r].Score, 1e-4, 1e-4, $"user {u} rank {r}");
        }
    }

    [Fact]
    public void Include_heard_and_extra_filters_are_respected()
    {
        var m = Trained.Value;
        var rec = new Recommender(m);
        var all = rec.RecommendUser(7, 50, excludeHeard: false);
        var heard = m.UserItems!.RowIndices(7).ToArray();
        Assert.Contains(all, r => heard.Contains(r.Index));
        int[] blocked = rec.RecommendUser(7, 5).Select(r => r.Index).ToArray();
        var filtered = rec.RecommendUser(7, 10, excludeItems: blocked);
        Assert.Empty(filtered.Select(r => r.Index).Intersect(blocked));
        Assert.Empty(filtered.Select(r => r.Index).Intersect(heard));
        Assert.Equal(10, filtered.Length);
    }

    [Fact]
    public void Batch_equals_single()
    {
        var rec = new Recommender(Trained.Value);
        int[] users = Enumerable.Range(0, 200).ToArray();
        var batch = rec.RecommendBatch(users, 10, threads: 2);
        for (int i = 0; i < users.Length; i++) Assert.Equal(rec.RecommendUser(users[i], 10), batch[i]);
    }

    [Fact]
    public void K_larger_than_catalog_returns_every_candidate_once()
    {
        var m = Trained.Value;
        var rec = new Recommender(m);
        var got = rec.RecommendUser(0, m.ItemCount + 10);
        Assert.Equal(m.ItemCount - m.UserItems!.RowLength(0), got.Length);
        Assert.Equal(got.Length, got.Select(r => r.Index).Distinct().Count());
        Assert.Empty(rec.RecommendUser(0, 0));
    }

    [Fact]
    public void Similar_items_are_the_cosine_ranking_without_the_item_itself()
    {
        var m = Trained.Value;
        var rec = new Recommender(m);
        int k = m.Factors;
        double Norm(int i) => Math.Sqrt(Enumerable.Range(0, k).Sum(j => (double)m.ItemFactors[i * k + j] * m.ItemFactors[i * k + j]));
        foreach (int item in new[] { 0, 17, 400 })
        {
            var cos = Enumerable.Range(0, m.ItemCount).Select(i =>
                Enumerable.Range(0, k).Sum(j => (double)m.ItemFactors[i * k + j] * m.ItemFactors[item * k + j]) / (Norm(i) * Norm(item))).ToArray();
            var got = rec.SimilarItems(item, 10);
            Assert.DoesNotContain(got, r => r.Index == item);
            var expected = Enumerable.Range(0, m.ItemCount).Where(i => i != item).OrderByDescending(i => cos[i]).Take(10).ToArray();
            for (int r = 0; r < 10; r++) Tolerance.AssertClose(cos[expected[r]], got[r].Score, 1e-4, 1e-4, $"item {item} rank {r}");
            Assert.All(got, r => Assert.InRange(r.Score, -1.0001f, 1.0001f));
        }
        var users = rec.SimilarUsers(3, 5);
        Assert.Equal(5, users.Length);
        Assert.DoesNotContain(users, r => r.Index == 3);
    }

    [Fact]
    public void Fold_in_of_a_trained_user_gives_about_their_trained_top_items()
    {
        var m = Trained.Value;
        var rec = new Recommender(m);
        double overlap = 0;
        const int users = 40;
        for (int u = 0; u < users; u++)
        {
            var idx = m.UserItems!.RowIndices(u);
            var w = m.UserItems.RowValues(u);
            var x = rec.FoldIn(idx, w);
            var fromFold = rec.RecommendVector(x, 10, idx).Select(r => r.Index);
            var trained = rec.RecommendUser(u, 10).Select(r => r.Index);
            overlap += fromFold.Intersect(trained).Count() / 10.0;
        }
        Assert.True(overlap / users >= 0.8, $"mean top-10 overlap {overlap / users:F2}");
    }

    [Fact]
    public void Fold_in_of_nothing_is_the_zero_vector_and_bad_items_are_refused()
    {
        var rec = new Recommender(Trained.Value);
        Assert.All(rec.FoldIn([], []), v => Assert.Equal(0f, v));
        Assert.Throws<ArgumentOutOfRangeException>(() => rec.FoldIn([Trained.Value.ItemCount], [1f]));
    }

    [Fact]
    public void Popularity_ranks_by_listeners_and_respects_exclusions()
    {
        var m = Trained.Value;
        var rec = new Recommender(m);
        var top = rec.Popular(20);
        Assert.Equal(m.ItemPopularity!.OrderDescending().Take(20), top.Select(r => r.Score));
        var without = rec.Popular(5, [top[0].Index, top[1].Index]);
        Assert.Equal(top[2].Index, without[0].Index);
    }

    [Fact]
    public void Top_k_matches_a_full_sort_with_index_tie_break()
    {
        var rng = new SplitMix(4);
        for (int trial = 0; trial < 50; trial++)
        {
            int n = 1 + rng.NextInt(300);
            int k = rng.NextInt(n + 5);
            var scores = Enumerable.Range(0, n).Select(_ => (float)rng.NextInt(20)).ToArray();
            var heap = new TopK(k);
            heap.PushAll(scores);
            var expected = Enumerable.Range(0, n).OrderByDescending(i => scores[i]).ThenBy(i => i).Take(k).ToArray();
            Assert.Equal(expected, heap.Drain().Select(r => r.Index).ToArray());
        }
    }

    [Fact]
    public void Unknown_user_index_is_refused()
    {
        var rec = new Recommender(Trained.Value);
        Assert.Throws<ArgumentOutOfRangeException>(() => rec.RecommendUser(-1, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => rec.SimilarItems(Trained.Value.ItemCount, 10));
    }

    [Fact]
    public void Model_round_trip_keeps_recommendations()
    {
        using var dir = new TempDir();
        ModelFile.Save(Trained.Value, dir.File("m.npz"));
        var loaded = ModelFile.Load(dir.File("m.npz"));
        Assert.Equal(new Recommender(Trained.Value).RecommendUser(5, 10), new Recommender(loaded).RecommendUser(5, 10));
    }
}
