using BenchmarkDotNet.Attributes;
using RecSys.Engine.Compute;
using RecSys.Engine.Data;

namespace RecSys.Bench.Suites;

/// <summary>
/// The norm-ordered scan's scoring of 448 items × 64 factors (what a demo user's proven-exact top 20
/// reads): one dot product per row (baseline) against factor-major tiles of 16 (<see cref="TiledScores"/>).
/// </summary>
public class ScanKernelBenchmarks
{
    private const int Rows = 448, K = 64;
    private float[] _rows = null!;
    private float[] _tiles = null!;
    private float[] _query = null!;
    private readonly float[] _scores = new float[Rows];

    [GlobalSetup]
    public void Setup()
    {
        var rng = new SplitMix(3);
        _rows = Enumerable.Range(0, Rows * K).Select(_ => rng.NextFloat() - 0.5f).ToArray();
        _tiles = TiledScores.Tile(_rows, K);
        _query = Enumerable.Range(0, K).Select(_ => rng.NextFloat() - 0.5f).ToArray();
    }

    [Benchmark(Baseline = true)]
    public float RowAtATime()
    {
        Kernels.MatVec(_rows, K, _query, _scores);
        return _scores[^1];
    }

    [Benchmark]
    public float Tiled()
    {
        for (int tile = 0; tile < Rows / TiledScores.Width; tile++)
        {
            TiledScores.Score(_tiles, tile, K, _query, _scores.AsSpan(tile * TiledScores.Width, TiledScores.Width));
        }
        return _scores[^1];
    }
}
