using BenchmarkDotNet.Attributes;
using RecSys.Engine.Compute;
using RecSys.Engine.Data;

namespace RecSys.Bench.Suites;

/// <summary>
/// Batch top-N's kernel: four queries' scores over 448 items × 64 factors (57,344 FLOP a query), one
/// query at a time through the tiles (baseline, <see cref="TiledScores"/>) against four at once
/// (<see cref="BlockScores"/>). The data sits in L1, so the block's rate is the core's practical peak.
/// </summary>
public class BlockKernelBenchmarks
{
    private const int Rows = 448, Factors = 64;
    private float[] _tiles = null!;
    private float[] _queries = null!;
    private readonly float[] _scores = new float[Rows];
    private readonly float[] _blockScores = new float[BlockScores.Users * BlockScores.Rows];

    [GlobalSetup]
    public void Setup()
    {
        var rng = new SplitMix(3);
        _tiles = TiledScores.Tile(Enumerable.Range(0, Rows * Factors).Select(_ => rng.NextFloat() - 0.5f).ToArray(), Factors);
        _queries = Enumerable.Range(0, BlockScores.Users * Factors).Select(_ => rng.NextFloat() - 0.5f).ToArray();
    }

    [Benchmark(Baseline = true)]
    public float OneQueryAtATime()
    {
        for (int q = 0; q < BlockScores.Users; q++)
        {
            var query = _queries.AsSpan(q * Factors, Factors);
            for (int tile = 0; tile < Rows / TiledScores.Width; tile++)
            {
                TiledScores.Score(_tiles, tile, Factors, query, _scores.AsSpan(tile * TiledScores.Width, TiledScores.Width));
            }
        }
        return _scores[^1];
    }

    [Benchmark]
    public float FourQueriesAtOnce()
    {
        for (int tile = 0; tile < Rows / TiledScores.Width; tile += 2)
        {
            BlockScores.Score(_tiles, tile, Factors, _queries, _blockScores);
        }
        return _blockScores[^1];
    }
}
