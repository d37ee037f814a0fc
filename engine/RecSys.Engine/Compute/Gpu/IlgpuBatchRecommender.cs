using ILGPU;
using ILGPU.Runtime;
using RecSys.Engine.Ann;
using RecSys.Engine.Model;
using RecSys.Engine.Recommend;

namespace RecSys.Engine.Compute.Gpu;

/// <summary>
/// Batch top-N on an ILGPU accelerator (CUDA, or the CPU accelerator for verification) with
/// <see cref="TopNKernels.UserTopN"/>. Item factors, the users' factors (transposed) and the heard CSR
/// (rows sorted) are copied once and stay resident; users go in launches (<see cref="UsersPerLaunch"/> by default),
/// and while one launch runs the previous one's lists are handed to the writer.
/// </summary>
public sealed class IlgpuBatchRecommender : IBatchRanker, IDisposable
{
    /// <summary>Users per launch: 4,096 groups of 64 on CUDA, several waves over any current GPU.</summary>
    public const int UsersPerLaunch = 1 << 18;

    private readonly Accelerator _accelerator;
    private readonly RecModel _model;
    private readonly int _groupSize;
    private readonly Action<KernelConfig, ArrayView<int>, int, int, ArrayView<float>, int, ArrayView<float>, int, int,
        ArrayView<int>, ArrayView<int>, int, int, ArrayView<int>, ArrayView<float>> _kernel;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _userFactorsT;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _itemFactors;
    private readonly MemoryBuffer1D<int, Stride1D.Dense> _heardPtr;
    private readonly MemoryBuffer1D<int, Stride1D.Dense> _heardIdx;

    private readonly int _usersPerLaunch;

    public IlgpuBatchRecommender(Accelerator accelerator, RecModel model, int usersPerLaunch = UsersPerLaunch)
    {
        // The host copies of a launch's lists are single arrays of users × N.
        ArgumentOutOfRangeException.ThrowIfLessThan(usersPerLaunch, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(usersPerLaunch, Array.MaxLength / TopNKernels.MaxTopN);
        _usersPerLaunch = usersPerLaunch;
        if (Unable(model.Factors, 1) is { } why) throw new ArgumentException($"{why}; use --device cpu", nameof(model));
        _accelerator = accelerator;
        _model = model;
        // As for training: the CPU accelerator pays a real thread rendezvous per barrier, so small groups there.
        int limit = accelerator.AcceleratorType == AcceleratorType.CPU ? Math.Min(4, accelerator.WarpSize) : TopNKernels.MaxGroupSize;
        _groupSize = Math.Max(1, Math.Min(limit, accelerator.MaxNumThreadsPerGroup));
        _kernel = accelerator.LoadStreamKernel<ArrayView<int>, int, int, ArrayView<float>, int, ArrayView<float>, int, int,
            ArrayView<int>, ArrayView<int>, int, int, ArrayView<int>, ArrayView<float>>(TopNKernels.UserTopN);
        _userFactorsT = accelerator.Allocate1D(Transposed(model.UserFactors, model.UserCount, model.Factors));
        _itemFactors = accelerator.Allocate1D(model.ItemCount == 0 ? new float[1] : model.ItemFactors);
        var (ptr, idx) = SortedHeard(model);
        _heardPtr = accelerator.Allocate1D(ptr);
        _heardIdx = accelerator.Allocate1D(idx.Length == 0 ? new int[1] : idx);
    }

    public string Device => $"{_accelerator.AcceleratorType} ({_accelerator.Name}), {_groupSize} users a group";

    /// <summary>What the kernel cannot take (<paramref name="factors"/>, N), or null: one check for the selector, the constructor and <see cref="RankAll"/>.</summary>
    public static string? Unable(int factors, int k) =>
        factors > TopNKernels.MaxFactors ? $"device top-N takes at most {TopNKernels.MaxFactors} factors (the model has {factors})"
        : k > TopNKernels.MaxTopN ? $"device top-N keeps at most {TopNKernels.MaxTopN} per user (--k {k})"
        : null;

    /// <summary>
    /// Device bytes for ranking <paramref name="users"/> users' top <paramref name="k"/>: the resident model
    /// (both factor matrices, the heard CSR), the user list, and one launch's lists (an index and a score each).
    /// </summary>
    public static long EstimateBytes(RecModel model, int users, int k) =>
        4L * model.Factors * (model.UserCount + model.ItemCount) + 4L * (model.UserCount + 1) + 4L * (model.UserItems?.Nnz ?? 0)
        + 4L * users + 8L * Math.Min(users, UsersPerLaunch) * k;

    public void RankAll(int[] users, int k, bool excludeHeard, Action<int, ScoredIndex[][]> write)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (Unable(_model.Factors, k) is { } why) throw new ArgumentOutOfRangeException(nameof(k), k, $"{why}; use --device cpu");
        foreach (int u in users) ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)u, (uint)_model.UserCount, nameof(users));
        if (users.Length == 0) return;
        int launch = Math.Min(_usersPerLaunch, users.Length);
        using var userList = _accelerator.Allocate1D(users);
        using var outIndex = _accelerator.Allocate1D<int>((long)launch * k);
        using var outScore = _accelerator.Allocate1D<float>((long)launch * k);
        var indices = new int[launch * k];
        var scores = new float[launch * k];
        int pendingStart = -1, pendingCount = 0;
        for (int start = 0; start < users.Length || pendingStart >= 0; start += launch)
        {
            int count = Math.Min(launch, users.Length - start);
            if (pendingStart >= 0)
            {
                // The launch before: copy its lists back (waits for it) before the buffers are reused.
                outIndex.View.AsContiguous().SubView(0, (long)pendingCount * k).CopyToCPU(indices.AsSpan(0, pendingCount * k));
                outScore.View.AsContiguous().SubView(0, (long)pendingCount * k).CopyToCPU(scores.AsSpan(0, pendingCount * k));
            }
            int copiedStart = pendingStart, copiedCount = pendingCount;
            pendingStart = -1;
            if (count > 0)
            {
                int groups = (count + _groupSize - 1) / _groupSize;
                _kernel(new KernelConfig(groups, _groupSize), userList.View, start, count, _userFactorsT.View, _model.UserCount,
                    _itemFactors.View, _model.ItemCount, _model.Factors, _heardPtr.View, _heardIdx.View, excludeHeard && _model.UserItems is not null ? 1 : 0, k,
                    outIndex.View, outScore.View);
                (pendingStart, pendingCount) = (start, count);
            }
            // Written while the device ranks the next launch.
            if (copiedStart >= 0) write(copiedStart, Lists(indices, scores, copiedCount, k));
        }
    }

    private static ScoredIndex[][] Lists(int[] indices, float[] scores, int count, int k)
    {
        var lists = new ScoredIndex[count][];
        for (int u = 0; u < count; u++)
        {
            int n = 0;
            while (n < k && indices[u * k + n] >= 0) n++;
            var list = new ScoredIndex[n];
            for (int r = 0; r < n; r++) list[r] = new ScoredIndex(indices[u * k + r], scores[u * k + r]);
            lists[u] = list;
        }
        return lists;
    }

    private static float[] Transposed(float[] rows, int count, int k)
    {
        var t = new float[Math.Max(1, rows.Length)];
        for (int r = 0; r < count; r++)
        {
            for (int f = 0; f < k; f++) t[(long)f * count + r] = rows[(long)r * k + f];
        }
        return t;
    }

    /// <summary>The heard CSR with each row sorted (the kernel merges it with the item scan), or empty rows.</summary>
    private static (int[] Ptr, int[] Idx) SortedHeard(RecModel model)
    {
        if (model.UserItems is not { } heard) return (new int[model.UserCount + 1], []);
        var ptr = heard.RowPtr[..(model.UserCount + 1)];
        var idx = heard.ColIndices[..heard.Nnz];
        for (int u = 0; u < model.UserCount; u++) idx.AsSpan(ptr[u], ptr[u + 1] - ptr[u]).Sort();
        return (ptr, idx);
    }

    public void Dispose()
    {
        _userFactorsT.Dispose();
        _itemFactors.Dispose();
        _heardPtr.Dispose();
        _heardIdx.Dispose();
    }
}
