using RecSys.Engine.Ann;
using RecSys.Engine.Model;
using RecSys.Engine.Recommend;

namespace RecSys.Tests.Recommend;

public sealed class ItemRetrieversTests
{
    /// <summary>Gaussian factors; with <paramref name="skewed"/>, item norms fall off with the index like popularity.</summary>
    private static RecModel Model(int items, ulong seed, bool skewed = false)
    {
        var rng = new RecSys.Engine.Data.SplitMix(seed);
        const int k = 16;
        var itf = Enumerable.Range(0, items * k).Select(i => (float)(rng.NextGaussian() * (skewed ? 1.0 / (1 + i / k) : 1.0))).ToArray();
        var uf = Enumerable.Range(0, 10 * k).Select(_ => (float)rng.NextGaussian()).ToArray();
        return new RecModel(k, uf, itf, Enumerable.Range(1, 10).Select(i => (long)i).ToArray(), Enumerable.Range(1, items).Select(i => (long)i).ToArray());
    }

    [Fact]
    public void Below_the_threshold_retrieval_is_exact_above_it_hnsw()
    {
        var model = Model(600, 1);
        var small = ItemRetrievers.Create(model, new RetrievalOptions { AnnThreshold = 601 });
        Assert.Null(Assert.IsType<NormPrunedRetriever>(small.UserTopN).Fallback);
        Assert.IsType<ExactRetriever>(small.Similar);
        var ann = ItemRetrievers.Create(model, new RetrievalOptions { AnnThreshold = 600, NormScanBudget = 0 });
        Assert.IsType<HnswRetriever>(ann.UserTopN);
        Assert.IsType<HnswRetriever>(ann.Similar);
        Assert.Equal(RetrievalMetric.InnerProduct, ann.UserTopN.Metric);
        Assert.Equal(RetrievalMetric.Cosine, ann.Similar.Metric);
    }

    [Fact]
    public void User_top_n_scans_by_norm_first_only_where_that_usually_ends_the_search()
    {
        var options = new RetrievalOptions { AnnThreshold = 1, NormScanBudget = 300 };
        var skewed = ItemRetrievers.Create(Model(3000, 5, skewed: true), options);
        Assert.IsType<HnswRetriever>(Assert.IsType<NormPrunedRetriever>(skewed.UserTopN).Fallback);
        Assert.Contains(skewed.Notes, n => n.Contains("scans first"));
        var flat = ItemRetrievers.Create(Model(3000, 5), options);
        Assert.IsType<HnswRetriever>(flat.UserTopN);
        Assert.Contains(flat.Notes, n => n.Contains("HNSW alone"));
    }

    [Fact]
    public void Indexes_are_saved_reused_and_rebuilt_when_stale()
    {
        using var dir = new TempDir();
        var options = new RetrievalOptions { AnnThreshold = 1, NormScanBudget = 0 };
        var first = ItemRetrievers.Create(Model(500, 2), options, dir.Path);
        Assert.True(File.Exists(dir.File(ItemRetrievers.InnerProductFile)));
        Assert.True(File.Exists(dir.File(ItemRetrievers.CosineFile)));
        Assert.All(first.Notes, n => Assert.StartsWith("built", n));

        var again = ItemRetrievers.Create(Model(500, 2), options, dir.Path);
        Assert.All(again.Notes, n => Assert.StartsWith("loaded", n));

        var retrained = ItemRetrievers.Create(Model(500, 3), options, dir.Path);
        Assert.Contains(retrained.Notes, n => n.Contains("stale"));
        Assert.Contains(ItemRetrievers.Create(Model(500, 3), options, dir.Path).Notes, n => n.StartsWith("loaded"));
    }

    [Fact]
    public void Recommender_gives_the_same_shape_through_either_retriever()
    {
        var model = Model(2000, 4);
        var exact = new Recommender(model);
        var ann = new Recommender(model, retrievers: ItemRetrievers.Create(model, new RetrievalOptions { AnnThreshold = 1, EfSearchInnerProduct = 200, EfSearchCosine = 200 }));
        var a = exact.RecommendUser(3, 10);
        var b = ann.RecommendUser(3, 10);
        Assert.Equal(10, b.Length);
        Assert.True(a.Select(r => r.Index).Intersect(b.Select(r => r.Index)).Count() >= 9);
        var s = ann.SimilarItems(5, 10, [7, 8]);
        Assert.DoesNotContain(s, r => r.Index is 5 or 7 or 8);
        Assert.True(exact.SimilarItems(5, 10, [7, 8]).Select(r => r.Index).Intersect(s.Select(r => r.Index)).Count() >= 9);
    }
}
