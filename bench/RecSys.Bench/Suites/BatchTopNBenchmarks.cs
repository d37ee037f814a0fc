using BenchmarkDotNet.Attributes;
using RecSys.Engine.Data;
using RecSys.Engine.Model;
using RecSys.Engine.Recommend;
using RecSys.Engine.Sparse;

namespace RecSys.Bench.Suites;

/// <summary>
/// <c>recommend --users all</c>'s ranking, one thread: 1,000 users' top 20 of 20,000 items × 64 factors,
/// 30 heard tracks each, one user at a time through the norm-ordered scan (baseline) against four at
/// a time (<see cref="BatchRecommender"/>). Skew 1 gives item norms like a popularity-skewed catalog
/// (pruning ends most scans early); skew 0 norms of one scale (every item is scored).
/// </summary>
public class BatchTopNBenchmarks
{
    private const int Users = 1000, Items = 20_000, Factors = 64, TopN = 20;
    private Recommender _single = null!;
    private BatchRecommender _batch = null!;
    private int[] _users = null!;

    [Params(0.0, 1.0)]
    public double Skew { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new SplitMix(17);
        float[] Vectors(int n, double skew) => [.. Enumerable.Range(0, n * Factors).Select(i => (float)(Math.Pow(1 + (i / Factors) * 7919 % n, -skew) * rng.NextGaussian()))];
        var rowPtr = Enumerable.Range(0, Users + 1).Select(u => u * 30).ToArray();
        var cols = Enumerable.Range(0, Users).SelectMany(u => Enumerable.Range(0, 30).Select(j => (u * 131 + j * 613) % Items).Order()).ToArray();
        var model = new RecModel(Factors, Vectors(Users, 0), Vectors(Items, Skew),
            [.. Enumerable.Range(1, Users).Select(u => (long)u)], [.. Enumerable.Range(1, Items).Select(i => (long)i)],
            userItems: new CsrMatrix(Users, Items, rowPtr, cols, [.. cols.Select(_ => 1f)]));
        _single = new Recommender(model);
        _batch = new BatchRecommender(model);
        _users = Enumerable.Range(0, Users).ToArray();
    }

    [Benchmark(Baseline = true)]
    public int OneAtATime() => _single.RecommendBatch(_users, TopN, threads: 1).Length;

    [Benchmark]
    public int FourAtATime() => _batch.Recommend(_users, TopN, threads: 1).Length;
}
