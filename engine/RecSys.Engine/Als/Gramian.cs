using RecSys.Engine.Compute;

namespace RecSys.Engine.Als;

/// <summary>
/// YᵀY (+ λI) of a row-major factor matrix. Fixed blocks of rows are summed in float by the Gram
/// kernel (in L1-sized tiles), and the block sums are added in double in block order, so the result
/// is the same for any thread count and float rounding does not grow with the number of rows.
/// </summary>
public static class Gramian
{
    private const int Block = 2048;
    private const int Tile = 64;

    public static float[] Compute(float[] factors, int rows, int k, float regularization, int threads)
    {
        int blocks = (rows + Block - 1) / Block;
        var partials = new float[blocks][];
        RowScheduler.Run(blocks, threads, 1, () => 0, (start, end, _) =>
        {
            for (int b = start; b < end; b++)
            {
                var local = new float[k * k];
                int last = Math.Min((b + 1) * Block, rows);
                for (int r = b * Block; r < last; r += Tile)
                {
                    int n = Math.Min(Tile, last - r);
                    Kernels.AccumulateGramUpper(factors.AsSpan(r * k, n * k), k, local);
                }
                partials[b] = local;
            }
        });
        var sum = new double[k * k];
        foreach (var p in partials)
        {
            for (int i = 0; i < sum.Length; i++) sum[i] += p[i];
        }
        var result = Array.ConvertAll(sum, v => (float)v);
        Kernels.MirrorUpper(result, k);
        for (int a = 0; a < k; a++) result[a * k + a] += regularization;
        return result;
    }
}
