using BenchmarkDotNet.Attributes;
using RecSys.Engine.Data;
using RecSys.Engine.Sparse;

namespace RecSys.Bench.Suites;

/// <summary>COO → CSR (ids mapped, duplicates merged) plus transpose.</summary>
public class SparseBenchmarks
{
    private InteractionTable _table = null!;

    [Params(2_000_000)]
    public int Rows { get; set; }

    [GlobalSetup]
    public void Setup() => _table = BenchData.PowerLaw(Rows, 50_000, 20_000);

    [Benchmark]
    public int BuildCsrAndTranspose()
    {
        var m = InteractionMatrix.Build(_table);
        return m.ItemUsers.Nnz;
    }
}
