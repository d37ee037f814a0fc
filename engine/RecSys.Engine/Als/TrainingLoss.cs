using RecSys.Engine.Compute;
using RecSys.Engine.Sparse;

namespace RecSys.Engine.Als;

/// <summary>
/// The loss ALS minimises: Σ_observed c·(1 − x·y)² + α₀·Σ_unobserved (x·y)² + Σ_u λ_u‖x_u‖² + Σ_i λ_i‖y_i‖²,
/// divided by Σ_observed c + α₀·(unobserved pairs) (implicit's calculate_loss when α₀ = 1 and λ is the
/// same for every row). The sum over unobserved pairs is α₀·xᵀ(YᵀY)x per user minus the observed
/// pairs' share, so the cost is one pass over the observed entries.
/// </summary>
public static class TrainingLoss
{
    /// <param name="userItems">The confidences as trained on (not divided by α₀).</param>
    public static double Compute(CsrMatrix userItems, float[] x, float[] y, int k, RowRegularization regularization, int threads)
    {
        double unobserved = regularization.UnobservedWeight;
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
                double loss = unobserved * Kernels.Dot(xu, gx);
                double total = 0;
                var idx = userItems.RowIndices(u);
                var conf = userItems.RowValues(u);
                for (int n = 0; n < idx.Length; n++)
                {
                    double s = Kernels.Dot(y.AsSpan(idx[n] * k, k), xu);
                    double c = conf[n];
                    loss += c - 2 * c * s + (c - unobserved) * s * s;
                    total += c;
                }
                perUser[u] = loss + regularization.RowLambda(idx.Length) * Kernels.Dot(xu, xu);
                confidence[u] = total;
            }
        });
        var listeners = new int[userItems.Cols];
        foreach (int i in userItems.ColIndices.AsSpan(0, userItems.Nnz)) listeners[i]++;
        double itemNorm = 0;
        for (int i = 0; i < userItems.Cols; i++)
        {
            var yi = y.AsSpan(i * k, k);
            itemNorm += regularization.RowLambda(listeners[i]) * Kernels.Dot(yi, yi);
        }
        double totalConfidence = confidence.Sum() + unobserved * ((double)users * userItems.Cols - userItems.Nnz);
        return (perUser.Sum() + itemNorm) / Math.Max(1, totalConfidence);
    }
}
