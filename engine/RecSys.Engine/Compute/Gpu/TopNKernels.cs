using ILGPU;
using ILGPU.Runtime;

namespace RecSys.Engine.Compute.Gpu;

/// <summary>
/// Batch top-N on the device, fused: each thread owns one user and keeps their top N in local memory
/// while the group walks the catalog a tile of items at a time through shared memory, so no user ×
/// item score matrix is ever written (at 1M × 200k it would be 800 GB; a segmented sort over tiles of
/// it moves far more memory than the scoring itself). Items are scanned in index order, so an equal
/// score never displaces a kept one: ties go to the lower index, as on the CPU.
/// </summary>
public static class TopNKernels
{
    /// <summary>Users per group (one per thread); the launch uses fewer where the accelerator allows fewer.</summary>
    public const int MaxGroupSize = 64;

    /// <summary>Items per shared-memory tile.</summary>
    public const int ItemTile = 16;

    /// <summary>Largest factor count: the group's user vectors and one item tile fit in 40 KB of shared memory.</summary>
    public const int MaxFactors = 128;

    /// <summary>Largest N: each thread's list lives in local memory.</summary>
    public const int MaxTopN = 128;

    /// <summary>
    /// Thread t of group g ranks user <c>users[first + g·groupSize + t]</c>: its top <paramref name="topN"/>
    /// items (heard ones skipped when <paramref name="excludeHeard"/> is 1; each row of the heard CSR
    /// sorted) into row (g·groupSize + t) of <paramref name="outIndex"/>/<paramref name="outScore"/>,
    /// best first, −1 past the end. User factors are transposed (factor-major: [f · userCount + u]).
    /// </summary>
    public static void UserTopN(
        ArrayView<int> users, int first, int count,
        ArrayView<float> userFactorsT, int userCount, ArrayView<float> itemFactors, int itemCount, int k,
        ArrayView<int> heardPtr, ArrayView<int> heardIdx, int excludeHeard, int topN,
        ArrayView<int> outIndex, ArrayView<float> outScore)
    {
        var userShared = SharedMemory.Allocate<float>(MaxFactors * MaxGroupSize);
        var tile = SharedMemory.Allocate<float>(MaxFactors * ItemTile);
        var bestScore = LocalMemory.Allocate<float>(MaxTopN);
        var bestIndex = LocalMemory.Allocate<int>(MaxTopN);
        int t = Group.IdxX;
        int g = Group.DimX;
        int slot = Grid.IdxX * g + t;
        bool active = slot < count;
        int user = active ? users[first + slot] : 0;

        // The group's user vectors, factor-major, so thread t reads column t (no bank conflicts).
        for (int f = 0; f < k; f++) userShared[f * g + t] = active ? userFactorsT[(long)f * userCount + user] : 0f;
        int heard = active && excludeHeard != 0 ? heardPtr[user] : 0;
        int heardEnd = active && excludeHeard != 0 ? heardPtr[user + 1] : 0;
        // The next heard track and the k-th best score stay in registers, not re-read per item.
        int nextHeard = heard < heardEnd ? heardIdx[heard] : int.MaxValue;
        float worst = float.NegativeInfinity;
        int kept = 0;

        for (int start = 0; start < itemCount; start += ItemTile)
        {
            int inTile = itemCount - start < ItemTile ? itemCount - start : ItemTile;
            Group.Barrier();
            for (int e = t; e < inTile * k; e += g) tile[e] = itemFactors[(long)start * k + e];
            Group.Barrier();
            if (!active) continue;
            for (int j = 0; j < inTile; j++)
            {
                int item = start + j;
                while (nextHeard < item)
                {
                    heard++;
                    nextHeard = heard < heardEnd ? heardIdx[heard] : int.MaxValue;
                }
                if (nextHeard == item) continue;
                float score = 0f;
                for (int f = 0; f < k; f++) score += tile[j * k + f] * userShared[f * g + t];
                if (kept == topN && !(score > worst)) continue;
                // Insertion into the sorted list; an equal score stays behind the kept one (lower index first).
                int at = kept < topN ? kept++ : topN - 1;
                while (at > 0 && bestScore[at - 1] < score)
                {
                    bestScore[at] = bestScore[at - 1];
                    bestIndex[at] = bestIndex[at - 1];
                    at--;
                }
                bestScore[at] = score;
                bestIndex[at] = item;
                if (kept == topN) worst = bestScore[topN - 1];
            }
        }
        if (!active) return;
        long row = (long)slot * topN;
        for (int r = 0; r < topN; r++)
        {
            outIndex[row + r] = r < kept ? bestIndex[r] : -1;
            outScore[row + r] = r < kept ? bestScore[r] : 0f;
        }
    }
}
