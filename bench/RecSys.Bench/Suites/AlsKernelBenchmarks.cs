using BenchmarkDotNet.Attributes;
using RecSys.Engine.Compute;
using RecSys.Engine.Data;

namespace RecSys.Bench.Suites;

/// <summary>
/// The CG inner loop, (YᵀCᵤY)·p over one row of 256 interactions, k = 64: implicit-style
/// TensorPrimitives calls per interaction (baseline) against the fused kernels.
/// </summary>
public class AlsKernelBenchmarks
{
    private const int K = 64;
    private float[] _factors = null!;
    private int[] _indices = null!;
    private float[] _confidence = null!;
    private float[] _p = null!;
    private float[] _ap = null!;
    private float[] _gram = null!;
    private float[] _block = null!;
    private float[] _gramOut = null!;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new SplitMix(3);
        const int items = 20_000;
        _factors = new float[items * K];
        for (int i = 0; i < _factors.Length; i++) _factors[i] = rng.NextFloat() - 0.5f;
        _indices = Enumerable.Range(0, 256).Select(_ => rng.NextInt(items)).Order().ToArray();
        _confidence = _indices.Select(_ => 1f + 3f * (1 + rng.NextInt(5))).ToArray();
        _p = Enumerable.Range(0, K).Select(_ => rng.NextFloat()).ToArray();
        _ap = new float[K];
        _gram = new float[K * K];
        for (int i = 0; i < _gram.Length; i++) _gram[i] = rng.NextFloat();
        _block = _factors.AsSpan(0, 4096 * K).ToArray();
        _gramOut = new float[K * K];
    }

    [Benchmark(Baseline = true)]
    public void TensorPrimitivesPerInteraction()
    {
        for (int n = 0; n < _indices.Length; n++)
        {
            var y = _factors.AsSpan(_indices[n] * K, K);
            float d = System.Numerics.Tensors.TensorPrimitives.Dot(y, _p);
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(y, (_confidence[n] - 1) * d, _ap, _ap);
        }
    }

    [Benchmark]
    public void FusedDispatch() => Kernels.AccumulateConfidenceProduct(_factors, K, _indices, _confidence, _p, _ap);

    [Benchmark]
    public void Fused256() => Kernels.AccumulateWeighted256(_factors, K, _indices, _confidence, _p, _ap, 0f, 1f);

    [Benchmark]
    public void Scalar() => Kernels.AccumulateWeightedScalar(_factors, K, _indices, _confidence, _p, _ap, 0f, 1f);

    [Benchmark]
    public void GramMatVecRowDots() => Kernels.MatVec(_gram, K, _p, _ap);

    [Benchmark]
    public void GramMatVecSymmetric() => Kernels.SymmetricMatVec(_gram, K, _p, _ap);

    /// <summary>Gram upper triangle of a 4,096-row block (training's YᵀY, one thread's share): the AVX-512 kernel.</summary>
    [Benchmark]
    public void GramBlock512() => Kernels.AccumulateGramUpper512(_block, K, _gramOut);

    /// <summary>The same, one TensorPrimitives multiply-add per row segment: the path without AVX-512.</summary>
    [Benchmark]
    public void GramBlockRows() => Kernels.AccumulateGramUpperRows(_block, K, _gramOut);

    /// <summary>The same, scalar loops (the oracle, and the path before there was another without AVX-512).</summary>
    [Benchmark]
    public void GramBlockScalar() => Kernels.AccumulateGramScalar(_block, K, _gramOut);
}
