using BenchmarkDotNet.Attributes;
using RecSys.Bench.Experiments;
using RecSys.Engine.Ann;

namespace RecSys.Bench.Suites;

/// <summary>One query at a time over 20,000 × 64 low-rank vectors: HNSW at two ef values against exact search (baseline).</summary>
public class AnnBenchmarks
{
    private AnnData _data = null!;
    private ExactRetriever _exact = null!;
    private HnswRetriever _hnsw = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _data = AnnData.Synthetic(20_000, 256, 64);
        _exact = new ExactRetriever(_data.Items, 64, RetrievalMetric.InnerProduct);
        _hnsw = HnswRetriever.Build(_data.Items, 64, RetrievalMetric.InnerProduct, new HnswOptions { EfConstruction = 100 });
    }

    private ReadOnlySpan<float> NextQuery()
    {
        _next = (_next + 1) % _data.QueryCount;
        return _data.Queries.AsSpan(_next * 64, 64);
    }

    [Benchmark(Baseline = true)]
    public int Exact() => _exact.Search(NextQuery(), 10).Length;

    [Benchmark]
    public int HnswEf10() => _hnsw.Search(NextQuery(), 10, 10).Length;

    [Benchmark]
    public int HnswEf40() => _hnsw.Search(NextQuery(), 10, 40).Length;
}
