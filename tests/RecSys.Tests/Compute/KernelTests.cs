using RecSys.Engine.Compute;
using RecSys.Engine.Data;

namespace RecSys.Tests.Compute;

/// <summary>
/// Every SIMD kernel against a double-precision scalar oracle, over odd and round sizes. The
/// dispatching entry points pick Vector512/256 here; ./test.sh reruns this class with hardware
/// intrinsics disabled so the scalar fallbacks are the code under test too.
/// Tolerance: abs 1e-4 + rel 1e-4 of the result's magnitude (float sums of up to a few hundred terms).
/// </summary>
[Trait("Category", "Simd")]
public sealed class KernelTests
{
    /// <summary>Every length 0..256: each vector width's main loop, every remainder, the unrolled k = 32/64/128 paths.</summary>
    public static TheoryData<int> Sizes => [.. Enumerable.Range(0, 257)];

    private static float[] Random(int n, ulong seed)
    {
        var rng = new SplitMix(seed);
        return Enumerable.Range(0, n).Select(_ => rng.NextFloat() * 2 - 1).ToArray();
    }

    private static (float[] Factors, int[] Indices, float[] Confidence, float[] V) Problem(int k, int rows, int nnz, ulong seed)
    {
        var rng = new SplitMix(seed);
        var factors = Random(rows * k, seed + 1);
        var indices = Enumerable.Range(0, nnz).Select(_ => rng.NextInt(rows)).ToArray();
        var confidence = indices.Select(_ => 1 + 40 * rng.NextFloat()).ToArray();
        return (factors, indices, confidence, Random(k, seed + 2));
    }

    private static double[] WeightedOracle(float[] f, int k, int[] idx, float[] conf, float[] v, float[] acc, double baseScale, double dotScale)
    {
        var result = acc.Select(a => (double)a).ToArray();
        for (int n = 0; n < idx.Length; n++)
        {
            double d = 0;
            for (int j = 0; j < k; j++) d += (double)f[idx[n] * k + j] * v[j];
            double s = baseScale * conf[n] + dotScale * (conf[n] - 1) * d;
            for (int j = 0; j < k; j++) result[j] += s * f[idx[n] * k + j];
        }
        return result;
    }

    private static void AssertNear(double[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = Math.Max(1, expected.DefaultIfEmpty(0).Max(Math.Abs));
        for (int i = 0; i < expected.Length; i++)
        {
            Tolerance.AssertClose(expected[i], actual[i], 1e-4 * scale, 1e-4, $"{what}[{i}]");
        }
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Confidence_product_matches_oracle(int k)
    {
        var (f, idx, conf, p) = Problem(k, 37, 53, (ulong)k);
        var start = Random(k, 99);
        var expected = WeightedOracle(f, k, idx, conf, p, start, 0, 1);
        foreach (var (name, run) in Variants(k))
        {
            var acc = (float[])start.Clone();
            run(f, k, idx, conf, p, acc, 0f, 1f);
            AssertNear(expected, acc, $"{name} k={k}");
        }
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Residual_matches_oracle(int k)
    {
        var (f, idx, conf, x) = Problem(k, 11, 29, (ulong)k + 1000);
        var start = Random(k, 7);
        var expected = WeightedOracle(f, k, idx, conf, x, start, 1, -1);
        var acc = (float[])start.Clone();
        Kernels.AccumulateResidual(f, k, idx, conf, x, acc);
        AssertNear(expected, acc, $"residual k={k}");
    }

    [Fact]
    public void Empty_row_leaves_the_accumulator()
    {
        var acc = new float[] { 1, 2, 3 };
        Kernels.AccumulateConfidenceProduct(new float[9], 3, [], [], [1, 1, 1], acc);
        Assert.Equal([1f, 2f, 3f], acc);
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Symmetric_mat_vec_matches_oracle(int k)
    {
        var a = Random(k * k, (ulong)k);
        var g = new float[k * k];
        for (int i = 0; i < k; i++) for (int j = 0; j < k; j++) g[i * k + j] = a[i * k + j] + a[j * k + i];
        var v = Random(k, 5);
        var expected = new double[k];
        for (int i = 0; i < k; i++) for (int j = 0; j < k; j++) expected[i] += (double)g[i * k + j] * v[j];
        var y = new float[k];
        Kernels.SymmetricMatVec(g, k, v, y);
        AssertNear(expected, y, $"dispatch k={k}");
        Kernels.SymmetricMatVecScalar(g, k, v, y);
        AssertNear(expected, y, $"scalar k={k}");
        if (k >= 8)
        {
            Kernels.SymmetricMatVec256(g, k, v, y);
            AssertNear(expected, y, $"256 k={k}");
        }
        if (k >= 16 && System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
        {
            Kernels.SymmetricMatVec512(g, k, v, y);
            AssertNear(expected, y, $"512 k={k}");
        }
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Mat_vec_matches_oracle(int k)
    {
        const int rows = 23;
        var m = Random(rows * k, (ulong)k + 3);
        var x = Random(k, 4);
        var expected = Enumerable.Range(0, rows).Select(i => Enumerable.Range(0, k).Sum(j => (double)m[i * k + j] * x[j])).ToArray();
        var scores = new float[rows];
        Kernels.MatVec(m, k, x, scores);
        AssertNear(expected, scores, $"k={k}");
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Gram_upper_matches_oracle(int k)
    {
        if (k == 0)
        {
            // A Gram matrix of zero-length rows: refused, not a division by zero or an endless loop.
            Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.AccumulateGramUpper([], 0, []));
            Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.AccumulateGramScalar([], 0, []));
            Assert.Throws<ArgumentOutOfRangeException>(() => Kernels.AccumulateGramUpperRows([], 0, []));
            return;
        }
        foreach (int rows in new[] { 1, 2, 5, 64 })
        {
            var y = Random(rows * k, (ulong)(k * 100 + rows));
            var expected = new double[k * k];
            for (int r = 0; r < rows; r++)
                for (int a = 0; a < k; a++)
                    for (int c = 0; c < k; c++)
                        expected[a * k + c] += (double)y[r * k + a] * y[r * k + c];
            var g = new float[k * k];
            Kernels.AccumulateGramUpper(y, k, g);
            Kernels.MirrorUpper(g, k);
            AssertNear(expected, g, $"dispatch k={k} rows={rows}");
            var s = new float[k * k];
            Kernels.AccumulateGramScalar(y, k, s);
            Kernels.MirrorUpper(s, k);
            AssertNear(expected, s, $"scalar k={k} rows={rows}");
            var t = new float[k * k];
            Kernels.AccumulateGramUpperRows(y, k, t);
            Kernels.MirrorUpper(t, k);
            AssertNear(expected, t, $"row-wise TensorPrimitives k={k} rows={rows}");
        }
    }

    private delegate void Weighted(ReadOnlySpan<float> f, int k, ReadOnlySpan<int> idx, ReadOnlySpan<float> conf, ReadOnlySpan<float> v, Span<float> acc, float b, float d);

    private static IEnumerable<(string, Weighted)> Variants(int k)
    {
        yield return ("dispatch", Kernels.AccumulateWeighted);
        yield return ("scalar", Kernels.AccumulateWeightedScalar);
        if (k >= 8) yield return ("256", Kernels.AccumulateWeighted256);
        if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
        {
            if (k >= 16) yield return ("512", Kernels.AccumulateWeighted512);
            if (k == 32) yield return ("32x512", (f, _, i, c, v, a, b, d) => Kernels.AccumulateWeighted32x512(f, i, c, v, a, b, d));
            if (k == 64) yield return ("64x512", (f, _, i, c, v, a, b, d) => Kernels.AccumulateWeighted64x512(f, i, c, v, a, b, d));
            if (k == 128) yield return ("128x512", (f, _, i, c, v, a, b, d) => Kernels.AccumulateWeighted128x512(f, i, c, v, a, b, d));
        }
    }

    [Fact]
    public void The_kernels_are_not_public_they_trust_their_indices()
    {
        // AccumulateWeighted reads factors at the given indices without a bounds check (that is its speed);
        // only the engine, which builds the indices from validated matrices, may call it.
        Assert.False(typeof(RecSys.Engine.Compute.Kernels).IsPublic);
    }
}
