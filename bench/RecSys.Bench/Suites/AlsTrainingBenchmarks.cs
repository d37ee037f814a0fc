using BenchmarkDotNet.Attributes;
using RecSys.Bench.Experiments;
using RecSys.Engine.Als;
using RecSys.Engine.Sparse;

namespace RecSys.Bench.Suites;

/// <summary>
/// One ALS iteration (both half-sweeps) on a synthetic power-law matrix of 50,000 users × 20,000
/// items × 200,000 interactions (a tenth of the target set, so BenchmarkDotNet can repeat it), and
/// YᵀY alone. The full-size measurement is the <c>als</c> experiment command.
/// </summary>
public class AlsTrainingBenchmarks
{
    private CsrMatrix _confidence = null!;
    private CsrMatrix _transpose = null!;
    private AlsTrainer _trainer = null!;
    private float[] _x = null!;
    private float[] _y = null!;

    [Params(32, 64, 128)]
    public int Factors { get; set; }

    [Params(AlsSolver.ConjugateGradient)]
    public AlsSolver Solver { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var raw = AlsExperiment.SyntheticMatrix(50_000, 20_000, 200_000);
        _confidence = Confidence.Weight(raw, ConfidenceScaling.Linear, 3f);
        _transpose = _confidence.Transpose();
        _trainer = new AlsTrainer(new AlsOptions { Factors = Factors, Solver = Solver });
        var init = new AlsTrainer(new AlsOptions { Factors = Factors, Iterations = 1 }).Fit(_confidence, _transpose);
        _x = init.UserFactors;
        _y = init.ItemFactors;
    }

    [Benchmark]
    public void Iteration()
    {
        _trainer.SolveSide(_confidence, _y, _x);
        _trainer.SolveSide(_transpose, _x, _y);
    }

    [Benchmark]
    public float[] UserGramian() => Gramian.Compute(_x, _confidence.Rows, Factors, 0.01f, 0);
}
