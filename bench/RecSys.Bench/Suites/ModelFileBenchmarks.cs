using BenchmarkDotNet.Attributes;
using RecSys.Engine.Model;

namespace RecSys.Bench.Suites;

/// <summary>model.npz write and read for the original design's size (10k users, 50k tracks, 64 factors: 15.4 MB of factors).</summary>
public class ModelFileBenchmarks
{
    private RecModel _model = null!;
    private string _path = "";

    [GlobalSetup]
    public void Setup()
    {
        const int users = 10_000, items = 50_000, k = 64;
        var rng = new RecSys.Engine.Data.SplitMix(5);
        var uf = new float[users * k];
        var itf = new float[items * k];
        for (int i = 0; i < uf.Length; i++) uf[i] = rng.NextFloat() - 0.5f;
        for (int i = 0; i < itf.Length; i++) itf[i] = rng.NextFloat() - 0.5f;
        _model = new RecModel(k, uf, itf,
            Enumerable.Range(1, users).Select(i => (long)i).ToArray(),
            Enumerable.Range(1, items).Select(i => (long)i).ToArray());
        _path = Path.Combine(Path.GetTempPath(), $"recsys-bench-model-{Environment.ProcessId}.npz");
        ModelFile.Save(_model, _path);
    }

    [GlobalCleanup]
    public void Cleanup() => File.Delete(_path);

    [Benchmark]
    public void Write() => ModelFile.Save(_model, _path);

    [Benchmark]
    public int Read() => ModelFile.Load(_path).ItemCount;
}
