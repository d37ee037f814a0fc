using RecSys.Engine.Compute;
using RecSys.Engine.Sparse;

namespace RecSys.Engine.Als;

/// <summary>
/// The weighted loss Σ c·(p − x·y)² + λ(‖X‖² + ‖Y‖²) over all user-item pairs, divided by
/// Σ c over all pairs (implicit's calculate_loss). The sum over unobserved pairs is xᵀ(YᵀY)x per
/// user, so the cost is one pass over the observed entries.
/// </summary>
public static class TrainingLoss
{
    public static double Compute(CsrMatrix userItems, float[] x, float[] y, int k, float regularization, int threads)
    {
        float[] gram = Gramian.Compute(y, userItems.Cols, k, 0f, threads);
        int users = userItems.Rows;
        var perUser = new double[users];
        var confidence = new double[users];
        RowScheduler.Run(users, threads, 64, () => new float[k], (start, end, gx) =>
        {
            for (int u = start; u < end; u++)
            {
                ReadOnlySpan<float> xu = x.AsSpan(u * k, k);
                Kernels.MatVec(gram, k, xu, gx);
                double loss = Kernels.Dot(xu, gx);
                double total = 0;
                var idx = userItems.RowIndices(u);
                var conf = userItems.RowValues(u);
                for (int n = 0; n < idx.Length; n++)
                {
                    double s = Kernels.Dot(y.AsSpan(idx[n] * k, k), xu);
                    double c = conf[n];
                    loss += c - 2 * c * s + (c - 1) * s * s;
                    total += c;
                }
                perUser[u] = loss + regularization * Kernels.Dot(xu, xu);
                confidence[u] = total;
            }
        });
        double itemNorm = 0;
        for (int i = 0; i < userItems.Cols; i++)
        {
            var yi = y.AsSpan(i * k, k);
            itemNorm += Kernels.Dot(yi, yi);
        }
        double totalConfidence = confidence.Sum() + (double)users * userItems.Cols - userItems.Nnz;
        return (perUser.Sum() + regularization * itemNorm) / Math.Max(1, totalConfidence);
    }
}
