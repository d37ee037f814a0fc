using RecSys.Engine.Ann;
using RecSys.Engine.Data;
using RecSys.Engine.Recommend;

namespace RecSys.Tests.Ann;

/// <summary>The norm-ordered scan against brute force (the oracle): exact without a budget, fallback merging with one.</summary>
[Trait("Category", "Simd")]
public sealed class NormPrunedRetrieverTests
{
    /// <summary>
    /// Vectors whose norms fall off like factors of a popularity-skewed catalog (norm ∝ rank^-skew);
    /// skew 0 gives norms of one scale.
    /// </summary>
    private static float[] Vectors(int n, int dims, double skew, ulong seed)
    {
        var rng = new SplitMix(seed);
        var v = new float[n * dims];
        for (int i = 0; i < n; i++)
        {
            double scale = Math.Pow(1 + rng.NextDouble() * n, -skew);
            for (int d = 0; d < dims; d++) v[i * dims + d] = (float)(scale * rng.NextGaussian());
        }
        return v;
    }

    private static void AssertSameAsExact(ScoredIndex[] expected, ScoredIndex[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            // Same ranked scores (ties may pick different items with the very same score).
            Assert.True(Math.Abs(expected[i].Score - actual[i].Score) <= 1e-5f * Math.Max(1f, Math.Abs(expected[i].Score)),
                $"{what}: rank {i} score {actual[i].Score} (item {actual[i].Index}), exact {expected[i].Score} (item {expected[i].Index})");
        }
    }

    [Theory]
    [InlineData(1, 13, 0.0)]
    [InlineData(7, 13, 1.0)]
    [InlineData(31, 64, 0.0)]
    [InlineData(33, 64, 1.0)]
    [InlineData(1000, 64, 0.0)]
    [InlineData(1001, 17, 1.0)]
    [InlineData(4096, 64, 0.7)]
    public void Without_a_budget_results_equal_brute_force(int n, int dims, double skew)
    {
        var items = Vectors(n, dims, skew, (ulong)n);
        var queries = Vectors(40, dims, 0, 99);
        var exact = new ExactRetriever(items, dims, RetrievalMetric.InnerProduct);
        var scan = new NormPrunedRetriever(items, dims);
        for (int q = 0; q < 40; q++)
        {
            var query = queries.AsSpan(q * dims, dims);
            int[] exclude = [q % n, (q * 7) % n, n + 5, -1];
            foreach (int k in new[] { 1, 10, n + 3 })
            {
                AssertSameAsExact(exact.Search(query, k), scan.Search(query, k), $"n {n} k {k} query {q}");
                var filtered = scan.Search(query, k, exclude);
                AssertSameAsExact(exact.Search(query, k, exclude), filtered, $"n {n} k {k} query {q} filtered");
                Assert.DoesNotContain(filtered, r => exclude.Contains(r.Index));
            }
        }
    }

    [Theory]
    [InlineData(40)]
    [InlineData(600)]
    public void Many_exclusions_with_duplicates_and_out_of_range_ids_equal_brute_force(int excluded)
    {
        // Past 256 exclusions the sorted positions come from a pooled array instead of the stack.
        const int n = 2_000, dims = 24;
        var items = Vectors(n, dims, 0.8, 3);
        var queries = Vectors(20, dims, 0, 4);
        var exact = new ExactRetriever(items, dims, RetrievalMetric.InnerProduct);
        var scan = new NormPrunedRetriever(items, dims);
        var rng = new SplitMix(11);
        for (int q = 0; q < 20; q++)
        {
            var exclude = Enumerable.Range(0, excluded).Select(_ => rng.NextInt(n)).Concat([n, -3, 0, 0]).ToArray();
            var query = queries.AsSpan(q * dims, dims);
            var found = scan.Search(query, 25, exclude);
            AssertSameAsExact(exact.Search(query, 25, exclude), found, $"query {q}");
            Assert.DoesNotContain(found, r => exclude.Contains(r.Index));
        }
    }

    [Fact]
    public void Skewed_norms_end_the_scan_early_uniform_norms_do_not()
    {
        var queries = Vectors(100, 32, 0, 5);
        var skewed = new NormPrunedRetriever(Vectors(20_000, 32, 1.0, 6), 32, budget: 500);
        var flat = new NormPrunedRetriever(Vectors(20_000, 32, 0, 6), 32, budget: 500);
        Assert.True(skewed.ExactShare(queries, 10) >= 0.95, $"skewed: {skewed.ExactShare(queries, 10):P0}");
        Assert.True(flat.ExactShare(queries, 10) <= 0.05, $"flat: {flat.ExactShare(queries, 10):P0}");
        Assert.Equal(1.0, new NormPrunedRetriever(Vectors(300, 32, 0, 6), 32).ExactShare(queries, 10));
    }

    [Fact]
    public void Past_the_budget_the_fallback_answers_and_results_merge_without_duplicates()
    {
        const int dims = 24;
        var items = Vectors(5000, dims, 0.3, 8);
        var queries = Vectors(100, dims, 0, 9);
        var exact = new ExactRetriever(items, dims, RetrievalMetric.InnerProduct);
        var graph = HnswRetriever.Build(items, dims, RetrievalMetric.InnerProduct, new HnswOptions { EfSearch = 64 }, InnerProductMode.Native);
        var hybrid = new NormPrunedRetriever(items, dims, budget: 200, fallback: graph);
        var alone = new NormPrunedRetriever(items, dims, budget: 200);
        Assert.True(hybrid.ExactShare(queries, 10) < 1, "the budget must be reached for this test to mean anything");
        double hybridHits = 0, aloneHits = 0;
        for (int q = 0; q < 100; q++)
        {
            var query = queries.AsSpan(q * dims, dims);
            int[] exclude = [q, q + 1];
            var truth = exact.Search(query, 10, exclude).Select(r => r.Index).ToHashSet();
            var found = hybrid.Search(query, 10, exclude);
            Assert.Equal(10, found.Length);
            Assert.Equal(10, found.Select(r => r.Index).Distinct().Count());
            Assert.DoesNotContain(found, r => exclude.Contains(r.Index));
            Assert.True(found.Zip(found.Skip(1)).All(p => p.First.Score >= p.Second.Score), "best first");
            hybridHits += found.Count(r => truth.Contains(r.Index));
            aloneHits += alone.Search(query, 10, exclude).Count(r => truth.Contains(r.Index));
        }
        Assert.True(hybridHits / 1000 >= 0.95, $"hybrid recall {hybridHits / 1000:F3}");
        Assert.True(hybridHits > aloneHits, $"the fallback adds nothing: {hybridHits} against {aloneHits}");
    }

    [Fact]
    public void A_zero_query_and_zero_vectors_have_defined_answers()
    {
        var items = new float[6 * 4];
        items[4] = 2; // item 1 = (2, 0, 0, 0); the rest are zero vectors
        var scan = new NormPrunedRetriever(items, 4);
        var zero = scan.Search(new float[4], 3);
        Assert.Equal(3, zero.Length);
        Assert.All(zero, r => Assert.Equal(0f, r.Score));
        var best = scan.Search([1, 0, 0, 0], 2);
        Assert.Equal(1, best[0].Index);
        Assert.Equal(2f, best[0].Score);
        Assert.Equal(0f, best[1].Score);
        Assert.Empty(new NormPrunedRetriever([], 4).Search([1, 0, 0, 0], 5));
    }

    [Fact]
    public void A_fallback_over_other_items_is_refused()
    {
        var items = Vectors(100, 8, 0, 1);
        var other = new ExactRetriever(Vectors(99, 8, 0, 1), 8, RetrievalMetric.InnerProduct);
        Assert.Throws<ArgumentException>(() => new NormPrunedRetriever(items, 8, 10, other));
        Assert.Throws<ArgumentException>(() => new NormPrunedRetriever(items, 8, 10, new ExactRetriever(items, 8, RetrievalMetric.Cosine)));
    }

    [Fact]
    public void Concurrent_queries_agree_with_sequential_ones()
    {
        const int dims = 16;
        var items = Vectors(3000, dims, 0.8, 3);
        var queries = Vectors(64, dims, 0, 4);
        var scan = new NormPrunedRetriever(items, dims);
        var expected = Enumerable.Range(0, 64).Select(q => scan.Search(queries.AsSpan(q * dims, dims), 10, [q])).ToArray();
        var actual = new ScoredIndex[64][];
        Parallel.For(0, 64 * 8, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            int q = i % 64;
            actual[q] = scan.Search(queries.AsSpan(q * dims, dims), 10, [q]);
        });
        for (int q = 0; q < 64; q++) Assert.Equal(expected[q], actual[q]);
    }
}
