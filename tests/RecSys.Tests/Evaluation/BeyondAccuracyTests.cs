using RecSys.Engine.Evaluation;
using RecSys.Engine.Sparse;

namespace RecSys.Tests.Evaluation;

/// <summary>Coverage, popularity percentile and intra-list diversity against hand-worked cases.</summary>
public sealed class BeyondAccuracyTests
{
    // Users × items: u0 has {0, 1}, u1 {0, 1, 2}, u2 {0}; item 3 has no listener.
    // Listeners per item: 3, 2, 1, 0.
    private static readonly CsrMatrix Train = CsrBuilder.FromCoo(3, 4, [0, 0, 1, 1, 1, 2], [0, 1, 0, 1, 2, 0], [1, 1, 1, 1, 1, 1]);

    [Fact]
    public void Popularity_percentiles_run_from_the_least_to_the_most_popular_with_ties_at_their_mid_rank()
    {
        Assert.Equal([1.0, 2 / 3.0, 1 / 3.0, 0.0], BeyondAccuracy.PopularityPercentiles(Train.Transpose()));
        // Listener counts 1, 1, 2: the tied pair share the mid-rank of positions 0 and 1 out of 2.
        var tied = CsrBuilder.FromCoo(2, 3, [0, 0, 1, 1], [0, 2, 1, 2], [1, 1, 1, 1]);
        Assert.Equal([0.25, 0.25, 1.0], BeyondAccuracy.PopularityPercentiles(tied.Transpose()));
        var equals = CsrBuilder.FromCoo(1, 3, [0, 0, 0], [0, 1, 2], [1, 1, 1]);
        Assert.Equal([0.5, 0.5, 0.5], BeyondAccuracy.PopularityPercentiles(equals.Transpose()));
    }

    [Fact]
    public void Two_lists_measured_by_hand()
    {
        var measured = BeyondAccuracy.Measure([[0, 1], [2, 3]], Train);
        Assert.Equal(1.0, measured.Coverage, 12);
        Assert.Equal((1 + 2 / 3.0 + 1 / 3.0 + 0) / 4, measured.PopularityPercentile!.Value, 12);
        // [0, 1]: listeners {0,1,2} and {0,1}, cosine 2/√6; [2, 3]: item 3 has none, cosine 0.
        Assert.Equal(((1 - 2 / Math.Sqrt(6)) + 1) / 2, measured.Diversity!.Value, 12);
    }

    [Fact]
    public void Everyone_getting_the_same_hits_shows_as_low_coverage_and_high_popularity()
    {
        var hits = BeyondAccuracy.Measure([[0, 1], [0, 1], [0, 1]], Train);
        Assert.Equal(0.5, hits.Coverage, 12);
        Assert.Equal((1 + 2 / 3.0) / 2, hits.PopularityPercentile!.Value, 12);
        Assert.Equal(1 - 2 / Math.Sqrt(6), hits.Diversity!.Value, 12);
    }

    [Fact]
    public void Identical_listeners_are_not_diverse_and_single_item_lists_have_no_pairs()
    {
        var twins = CsrBuilder.FromCoo(2, 2, [0, 0, 1, 1], [0, 1, 0, 1], [1, 1, 1, 1]);
        Assert.Equal(0.0, BeyondAccuracy.IntraListDiversity([0, 1], twins.Transpose()), 12);
        var single = BeyondAccuracy.Measure([[2]], Train);
        Assert.Equal(0.25, single.Coverage, 12);
        Assert.Null(single.Diversity);
        Assert.Equal(new BeyondAccuracy(0, null, null), BeyondAccuracy.Measure([], Train));
    }

    [Fact]
    public void The_evaluator_reports_them_for_the_lists_it_scored()
    {
        var test = CsrBuilder.FromCoo(3, 4, [0, 1, 2], [3, 3, 3], [1, 1, 1]);
        // Highest index first, heard items excluded: user 0 (has 0, 1) gets [3, 2]; user 1 (0, 1, 2) only [3]; user 2 (0) [3, 2].
        Evaluator.Scorer byIndex = (_, scores) =>
        {
            for (int i = 0; i < scores.Length; i++) scores[i] = i;
        };
        var m = Evaluator.Evaluate(byIndex, Train, test, k: 2);
        Assert.NotNull(m.Beyond);
        var expected = BeyondAccuracy.Measure([[3, 2], [3], [3, 2]], Train);
        Assert.Equal(expected, m.Beyond);
    }
}
