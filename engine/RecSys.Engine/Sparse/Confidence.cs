using System.Numerics.Tensors;

namespace RecSys.Engine.Sparse;

/// <summary>Confidence weighting: c = 1 + alpha·f(r), optionally after BM25 weighting of r.</summary>
public static class Confidence
{
    public static ConfidenceScaling ParseScaling(string name) => name.Trim().ToLowerInvariant() switch
    {
        "linear" => ConfidenceScaling.Linear,
        "log" => ConfidenceScaling.Log,
        "binary" => ConfidenceScaling.Binary,
        _ => throw new ArgumentException($"Unknown confidence scaling '{name}'. Known: linear, log, binary."),
    };

    public static float Apply(float r, ConfidenceScaling scaling, float alpha) => 1f + alpha * scaling switch
    {
        ConfidenceScaling.Linear => r,
        ConfidenceScaling.Log => MathF.Log(1f + r),
        _ => r > 0 ? 1f : 0f,
    };

    /// <summary>A matrix of the same structure whose values are confidences.</summary>
    public static CsrMatrix Weight(CsrMatrix raw, ConfidenceScaling scaling, float alpha, bool bm25 = false, float k1 = 100f, float b = 0.8f)
    {
        if (!float.IsFinite(alpha) || alpha < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be a finite number >= 0");
        }
        ReadOnlySpan<float> source = raw.Values.AsSpan(0, raw.Nnz);
        float[] values = bm25 ? Bm25(raw, k1, b) : source.ToArray();
        Span<float> v = values;
        switch (scaling)
        {
            case ConfidenceScaling.Log:
                TensorPrimitives.Add(v, 1f, v);
                TensorPrimitives.Log(v, v);
                break;
            case ConfidenceScaling.Binary:
                for (int i = 0; i < v.Length; i++) v[i] = v[i] > 0 ? 1f : 0f;
                break;
        }
        TensorPrimitives.Multiply(v, alpha, v);
        TensorPrimitives.Add(v, 1f, v);
        return raw.WithValues(values);
    }

    /// <summary>Mean of the per-row sums of raw values (BM25's average document length).</summary>
    public static double AverageRowSum(CsrMatrix m)
    {
        if (m.Rows == 0) return 1;
        double total = TensorPrimitives.Sum(m.Values.AsSpan(0, m.Nnz));
        double average = total / m.Rows;
        return average > 0 ? average : 1;
    }

    /// <summary>BM25 weight of one value, given the row's sum, the average row sum, the column's document frequency and the row count.</summary>
    public static float Bm25Value(float x, double rowSum, double averageRowSum, double documentFrequency, double rows, float k1 = 100f, float b = 0.8f)
    {
        double lengthNorm = (1 - b) + b * rowSum / averageRowSum;
        double idf = Math.Log(Math.Max(1, rows)) - Math.Log(1 + documentFrequency);
        return (float)(x * (k1 + 1) / (k1 * lengthNorm + x) * idf);
    }

    /// <summary>
    /// Okapi BM25 weighting of a user × item matrix (K1 = 100, B = 0.8, as implicit's bm25_weight):
    /// idf per item, length normalisation per user.
    /// </summary>
    public static float[] Bm25(CsrMatrix userItems, float k1 = 100f, float b = 0.8f)
    {
        int nnz = userItems.Nnz;
        var df = new int[userItems.Cols];
        foreach (int c in userItems.ColIndices.AsSpan(0, nnz)) df[c]++;
        double n = Math.Max(1, userItems.Rows);
        var rowSums = new double[userItems.Rows];
        for (int r = 0; r < userItems.Rows; r++)
        {
            rowSums[r] = TensorPrimitives.Sum(userItems.RowValues(r));
        }
        double average = AverageRowSum(userItems);
        var result = new float[nnz];
        for (int r = 0; r < userItems.Rows; r++)
        {
            for (int k = userItems.RowPtr[r]; k < userItems.RowPtr[r + 1]; k++)
            {
                result[k] = Bm25Value(userItems.Values[k], rowSums[r], average, df[userItems.ColIndices[k]], n, k1, b);
            }
        }
        return result;
    }
}
