using RecSys.Engine.Sparse;

namespace RecSys.Tests.Sparse;

public sealed class ConfidenceTests
{
    private static CsrMatrix Sample() => CsrBuilder.FromCoo(3, 4, [0, 0, 1, 2, 2, 2], [0, 3, 1, 0, 1, 2], [1, 4, 2, 10, 0.5f, 3]);

    [Theory]
    [InlineData(ConfidenceScaling.Linear, 3f)]
    [InlineData(ConfidenceScaling.Log, 2f)]
    [InlineData(ConfidenceScaling.Binary, 40f)]
    public void Weight_is_one_plus_alpha_f_r(ConfidenceScaling scaling, float alpha)
    {
        var raw = Sample();
        var c = Confidence.Weight(raw, scaling, alpha);
        Assert.Same(raw.ColIndices, c.ColIndices);
        for (int k = 0; k < raw.Nnz; k++)
        {
            float r = raw.Values[k];
            float f = scaling switch { ConfidenceScaling.Linear => r, ConfidenceScaling.Log => MathF.Log(1 + r), _ => 1f };
            Assert.Equal(1 + alpha * f, c.Values[k], 5);
            Assert.Equal(Confidence.Apply(r, scaling, alpha), c.Values[k], 5);
        }
    }

    [Fact]
    public void One_qualified_play_gives_the_original_designs_confidence_of_four()
    {
        Assert.Equal(4f, Confidence.Apply(1, ConfidenceScaling.Linear, 3f));
    }

    [Fact]
    public void Bm25_matches_the_formula()
    {
        var raw = Sample();
        float[] w = Confidence.Bm25(raw, 100, 0.8f);
        double[] rowSums = [5, 2, 13.5];
        double avg = rowSums.Average();
        int[] df = [2, 2, 1, 1];
        for (int r = 0; r < 3; r++)
        {
            for (int k = raw.RowPtr[r]; k < raw.RowPtr[r + 1]; k++)
            {
                double x = raw.Values[k];
                double idf = Math.Log(3) - Math.Log(1 + df[raw.ColIndices[k]]);
                double expected = x * 101 / (100 * (0.2 + 0.8 * rowSums[r] / avg) + x) * idf;
                Assert.Equal(expected, w[k], 1e-5);
            }
        }
    }

    [Fact]
    public void Negative_alpha_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Confidence.Weight(Sample(), ConfidenceScaling.Linear, -1));
        Assert.Throws<ArgumentException>(() => Confidence.ParseScaling("cubic"));
    }
}
