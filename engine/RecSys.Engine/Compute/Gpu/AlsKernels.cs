using ILGPU;
using ILGPU.Runtime;

namespace RecSys.Engine.Compute.Gpu;

/// <summary>
/// The ALS device kernels: static methods over ArrayViews, loaded once per trainer. The CG kernel runs
/// one group per row (up to 32 threads, each owning every g-th factor) with the row's vectors
/// in shared memory; dot products are group reductions through shared memory, so the same code runs on
/// CUDA and on ILGPU's CPU accelerator. YᵀCᵤY is never formed.
/// </summary>
public static class AlsKernels
{
    /// <summary>Most threads per row group (a warp on CUDA); the launch uses fewer where the accelerator allows fewer. A power of two.</summary>
    public const int MaxGroupSize = 32;

    /// <summary>Largest factor count the kernels take (shared-memory arrays are sized for it).</summary>
    public const int MaxFactors = 256;

    /// <summary>Rows of the factor matrix per partial YᵀY sum.</summary>
    public const int GramChunk = 1024;

    /// <summary>Partial YᵀY: thread (entry, chunk) sums y[r,a]·y[r,c] over the chunk's rows.</summary>
    public static void GramPartial(Index2D index, ArrayView<float> factors, int rows, int k, ArrayView<float> partials)
    {
        int entry = index.X;
        int chunk = index.Y;
        int a = entry / k;
        int c = entry % k;
        int start = chunk * GramChunk;
        int end = start + GramChunk < rows ? start + GramChunk : rows;
        float sum = 0;
        for (int r = start; r < end; r++)
        {
            sum += factors[(long)r * k + a] * factors[(long)r * k + c];
        }
        partials[(long)chunk * k * k + entry] = sum;
    }

    /// <summary>Adds the chunk partials in chunk order (deterministic) and λ on the diagonal.</summary>
    public static void GramReduce(Index1D entry, ArrayView<float> partials, int chunks, int k, float regularization, ArrayView<float> gram)
    {
        float sum = 0;
        for (int chunk = 0; chunk < chunks; chunk++) sum += partials[(long)chunk * k * k + entry];
        if (entry / k == entry % k) sum += regularization;
        gram[entry] = sum;
    }

    /// <summary>
    /// Conjugate-gradient update of one row per group, warm-started from target's current values
    /// (the same steps as the CPU solver). Rows are taken in the order of <paramref name="order"/>
    /// (longest first), so long rows start early instead of stalling the tail of the launch.
    /// </summary>
    public static void ConjugateGradient(
        ArrayView<int> order, ArrayView<int> rowPtr, ArrayView<int> indices, ArrayView<float> confidence,
        ArrayView<float> fixedFactors, ArrayView<float> gram, ArrayView<float> target, int k, int steps)
    {
        var x = SharedMemory.Allocate<float>(MaxFactors);
        var r = SharedMemory.Allocate<float>(MaxFactors);
        var p = SharedMemory.Allocate<float>(MaxFactors);
        var ap = SharedMemory.Allocate<float>(MaxFactors);
        var reduce = SharedMemory.Allocate<float>(MaxGroupSize);
        int t = Group.IdxX;
        int g = Group.DimX;
        int row = order[Grid.IdxX];
        long offset = (long)row * k;
        int begin = rowPtr[row];
        int end = rowPtr[row + 1];

        for (int j = t; j < k; j += g) x[j] = target[offset + j];
        Group.Barrier();

        // r = −(YᵀY + λI)·x + Σ (c − (c − 1)·(y·x))·y
        for (int j = t; j < k; j += g)
        {
            float s = 0;
            for (int i = 0; i < k; i++) s += gram[j * k + i] * x[i];
            r[j] = -s;
        }
        Group.Barrier();
        AccumulateRow(begin, end, indices, confidence, fixedFactors, k, x, r, 1f, -1f, reduce, t, g);
        Group.Barrier();

        float rr = 0;
        for (int j = t; j < k; j += g)
        {
            p[j] = r[j];
            rr += r[j] * r[j];
        }
        float rsOld = Sum(rr, reduce, t, g);
        if (rsOld >= 1e-20f)
        {
            for (int step = 0; step < steps; step++)
            {
                for (int j = t; j < k; j += g)
                {
                    float s = 0;
                    for (int i = 0; i < k; i++) s += gram[j * k + i] * p[i];
                    ap[j] = s;
                }
                Group.Barrier();
                AccumulateRow(begin, end, indices, confidence, fixedFactors, k, p, ap, 0f, 1f, reduce, t, g);
                Group.Barrier();
                float pap = 0;
                for (int j = t; j < k; j += g) pap += p[j] * ap[j];
                float pAp = Sum(pap, reduce, t, g);
                if (!(pAp > 0)) break;
                float alpha = rsOld / pAp;
                float rn = 0;
                for (int j = t; j < k; j += g)
                {
                    x[j] += alpha * p[j];
                    r[j] -= alpha * ap[j];
                    rn += r[j] * r[j];
                }
                float rsNew = Sum(rn, reduce, t, g);
                if (rsNew < 1e-20f) break;
                float beta = rsNew / rsOld;
                for (int j = t; j < k; j += g) p[j] = r[j] + beta * p[j];
                rsOld = rsNew;
                Group.Barrier();
            }
        }
        Group.Barrier();
        for (int j = t; j < k; j += g) target[offset + j] = x[j];
    }

    /// <summary>
    /// The CPU kernel's AccumulateWeighted, per group: for each interaction of the row,
    /// acc += (baseScale·c + dotScale·(c − 1)·(y·v))·y, with the dot product reduced over the group.
    /// </summary>
    private static void AccumulateRow(int begin, int end, ArrayView<int> indices, ArrayView<float> confidence, ArrayView<float> factors, int k,
        ArrayView<float> v, ArrayView<float> acc, float baseScale, float dotScale, ArrayView<float> reduce, int t, int g)
    {
        for (int n = begin; n < end; n++)
        {
            long y = (long)indices[n] * k;
            float partial = 0;
            for (int j = t; j < k; j += g) partial += factors[y + j] * v[j];
            float dot = Sum(partial, reduce, t, g);
            float c = confidence[n];
            float scale = baseScale * c + dotScale * (c - 1f) * dot;
            for (int j = t; j < k; j += g) acc[j] += scale * factors[y + j];
        }
    }

    /// <summary>The group's sum of one value per thread (tree reduction in shared memory); every thread gets it.</summary>
    private static float Sum(float value, ArrayView<float> scratch, int t, int g)
    {
        scratch[t] = value;
        Group.Barrier();
        for (int stride = g / 2; stride > 0; stride >>= 1)
        {
            if (t < stride) scratch[t] += scratch[t + stride];
            Group.Barrier();
        }
        float total = scratch[0];
        Group.Barrier();
        return total;
    }
}
