using BenchmarkDotNet.Attributes;
using RecSys.Engine.Data;
using RecSys.Engine.Evaluation;
using RecSys.Engine.Sparse;

namespace RecSys.Bench.Suites;

/// <summary>
/// The beyond-accuracy pass of an evaluation (coverage, popularity percentile, listener-cosine
/// diversity) on 2,000 top-10 lists of the most popular tracks, the worst case for the pairwise
/// listener intersections, over a 1M-play power-law catalog (the server's evaluation sample).
/// </summary>
public class EvaluationBenchmarks
{
    private CsrMatrix _train = null!;
    private List<int[]> _lists = null!;

    [GlobalSetup]
    public void Setup()
    {
        _train = InteractionMatrix.Build(BenchData.PowerLaw(1_000_000, 10_000, 50_000)).UserItems;
        var itemUsers = _train.Transpose();
        int[] byPopularity = Enumerable.Range(0, itemUsers.Rows).OrderByDescending(itemUsers.RowLength).ToArray();
        var rng = new SplitMix(7);
        // Each list: 10 of the 200 most popular tracks.
        _lists = Enumerable.Range(0, 2_000).Select(_ => byPopularity.Take(200).OrderBy(_ => rng.NextInt(1 << 30)).Take(10).ToArray()).ToList();
    }

    [Benchmark]
    public double? BeyondAccuracyOf2000Lists() => BeyondAccuracy.Measure(_lists, _train).Diversity;
}
