using RecSys.Engine.Compute;

namespace RecSys.Engine.Als;

/// <summary>
/// YᵀY (+ λI) of a row-major factor matrix. Summed in fixed blocks of rows whose partial sums are
/// added in block order, so the result is identical for any thread count.
/// </summary>
public static class Gramian
{
    private const int Block = 2048;

    public static float[] Compute(float[] factors, int rows, int k, float regularization, int threads)
    {
        int blocks = (rows + Block - 1) / Block;
        var partials = new double[blocks][];
        RowScheduler.Run(blocks, threads, 1, () => new float[k * k], (start, end, local) =>
        {
            for (int b = start; b < end; b++)
            {
                Array.Clear(local);
                int last = Math.Min((b + 1) * Block, rows);
                for (int r = b * Block; r < last; r++)
                {
                    ReadOnlySpan<float> y = factors.AsSpan(r * k, k);
                    for (int a = 0; a < k; a++)
                    {
                        float ya = y[a];
                        if (ya != 0) Kernels.Axpy(ya, y, local.AsSpan(a * k, k));
                    }
                }
                partials[b] = Array.ConvertAll(local, v => (double)v);
            }
        });
        var sum = new double[k * k];
        foreach (var p in partials)
        {
            for (int i = 0; i < sum.Length; i++) sum[i] += p[i];
        }
        var result = Array.ConvertAll(sum, v => (float)v);
        for (int a = 0; a < k; a++) result[a * k + a] += regularization;
        return result;
    }
}
