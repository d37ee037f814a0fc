using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using RecSys.Engine.Ann;
using RecSys.Engine.Compute.Gpu;
using RecSys.Engine.Model;
using RecSys.Engine.Recommend;
using RecSys.Tests.Recommend;

namespace RecSys.Tests.Gpu;

/// <summary>
/// Device batch top-N against brute force in double precision (<see cref="BatchRecommenderTests.AssertOracle"/>:
/// scores within abs 1e-5·√k + rel 1e-5, items differing only across such near-ties) and against the CPU
/// batch path, on ILGPU's CPU accelerator always and on CUDA where a device exists.
/// </summary>
public abstract class IlgpuBatchRecommenderTests : IDisposable
{
    private readonly Context _context;

    protected IlgpuBatchRecommenderTests(Func<Context, Accelerator?> create, Action<Context.Builder> configure)
    {
        _context = Context.Create(configure);
        Accelerator = create(_context);
    }

    protected Accelerator? Accelerator { get; }

    public void Dispose()
    {
        Accelerator?.Dispose();
        _context.Dispose();
    }

    protected void Every_users_top_k_is_the_oracles(int users, int items, int factors, double skew, int k, int usersPerLaunch)
    {
        var m = BatchRecommenderTests.Model(users, items, factors, skew, (ulong)(users * 31 + items * 7 + factors));
        using var device = new IlgpuBatchRecommender(Accelerator!, m, usersPerLaunch);
        var cpu = new BatchRecommender(m, threads: 1);
        foreach (bool excludeHeard in new[] { true, false })
        {
            // Every other user, backwards: a subset in any order, as --users FILE gives.
            int[] wanted = [.. Enumerable.Range(0, users).Where(u => u % 2 == 0).Reverse()];
            var got = Collect(device, wanted, k, excludeHeard);
            var onCpu = cpu.Recommend(wanted, k, excludeHeard);
            for (int i = 0; i < wanted.Length; i++)
            {
                BatchRecommenderTests.AssertOracle(m, wanted[i], k, excludeHeard, got[i], $"user {wanted[i]} (excludeHeard {excludeHeard})");
                Assert.Equal(onCpu[i].Length, got[i].Length);
            }
        }
    }

    /// <summary>The writer's slices, in order and back to back, joined.</summary>
    internal static ScoredIndex[][] Collect(IBatchRanker ranker, int[] users, int k, bool excludeHeard)
    {
        var all = new List<ScoredIndex[]>();
        ranker.RankAll(users, k, excludeHeard, (start, lists) =>
        {
            Assert.Equal(all.Count, start);
            all.AddRange(lists);
        });
        Assert.Equal(users.Length, all.Count);
        return [.. all];
    }
}

/// <summary>The kernel on ILGPU's CPU accelerator: runs everywhere, CI included (tiny sizes: it simulates GPU threads).</summary>
public sealed class IlgpuCpuBatchRecommenderTests() : IlgpuBatchRecommenderTests(c => c.CreateCPUAccelerator(0), b => b.DefaultCPU())
{
    [Theory]
    [InlineData(1, 1, 1, 0.0, 1, 8)]
    [InlineData(5, 17, 7, 1.0, 5, 8)]
    [InlineData(9, 33, 64, 0.0, 10, 2)]
    [InlineData(13, 40, 128, 1.2, 20, 3)]
    [InlineData(11, 16, 13, 0.5, 50, 4)]
    public void Top_k_matches_the_oracle(int users, int items, int factors, double skew, int k, int usersPerLaunch) =>
        Every_users_top_k_is_the_oracles(users, items, factors, skew, k, usersPerLaunch);

    [Fact]
    public void What_the_kernel_cannot_take_is_refused()
    {
        var wide = BatchRecommenderTests.Model(2, 5, TopNKernels.MaxFactors + 1, 0, 1);
        Assert.Contains("--device cpu", Assert.Throws<ArgumentException>(() => new IlgpuBatchRecommender(Accelerator!, wide)).Message);
        var m = BatchRecommenderTests.Model(2, 5, 4, 0, 1);
        using var device = new IlgpuBatchRecommender(Accelerator!, m);
        Assert.Throws<ArgumentOutOfRangeException>(() => device.RankAll([0], TopNKernels.MaxTopN + 1, true, (_, _) => { }));
        Assert.Throws<ArgumentOutOfRangeException>(() => device.RankAll([2], 3, true, (_, _) => { }));
        Assert.Throws<ArgumentOutOfRangeException>(() => device.RankAll([0], 0, true, (_, _) => { }));
        Assert.Empty(Collect(device, [], 3, true));
    }

    [Fact]
    public void Exact_ties_go_to_the_lower_index()
    {
        using var device = new IlgpuBatchRecommender(Accelerator!, BatchRecommenderTests.Ties());
        Assert.Equal([new ScoredIndex(0, 1f), new ScoredIndex(1, 1f)], Collect(device, [0], 2, true)[0]);
        Assert.Equal([new ScoredIndex(0, 1f)], Collect(device, [0], 1, true)[0]);
    }

    [Fact]
    public void The_model_is_left_as_it_was()
    {
        var m = BatchRecommenderTests.Model(6, 30, 5, 0, 9);
        // Rows out of order: the device sorts its own copy.
        var cols = m.UserItems!.ColIndices;
        Array.Reverse(cols, m.UserItems.RowPtr[1], m.UserItems.RowLength(1));
        var before = cols.ToArray();
        using var device = new IlgpuBatchRecommender(Accelerator!, m);
        var got = Collect(device, [1], 5, true);
        Assert.Equal(before, cols);
        BatchRecommenderTests.AssertOracle(m, 1, 5, true, got[0], "user 1, heard tracks unsorted");
    }
}

/// <summary>The same checks on CUDA, at sizes that fill a few groups; skipped (with the reason) where ILGPU finds no device.</summary>
public sealed class IlgpuCudaBatchRecommenderTests() : IlgpuBatchRecommenderTests(
    c => c.Devices.OfType<CudaDevice>().FirstOrDefault()?.CreateAccelerator(c), b => b.Cuda())
{
    [CudaFact]
    public void Top_k_matches_the_oracle_64() => Every_users_top_k_is_the_oracles(301, 2003, 64, 1.0, 20, 128);

    [CudaFact]
    public void Top_k_matches_the_oracle_flat_norms() => Every_users_top_k_is_the_oracles(130, 999, 37, 0.0, 10, 1 << 18);
}

public sealed class RankerSelectorTests
{
    private static readonly RecModel Small = BatchRecommenderTests.Model(6, 20, 4, 0, 1);

    [Fact]
    public void Cpu_when_asked_or_when_there_is_no_device_and_a_clear_error_for_gpu()
    {
        using (var cpu = RankerSelector.Select(TrainingDevice.Cpu, Small, 5, 1)) Assert.IsType<BatchRecommender>(cpu.Ranker);
        bool hasCuda;
        using (var context = Context.Create(b => b.Cuda())) hasCuda = context.Devices.OfType<CudaDevice>().Any();
        if (hasCuda)
        {
            using var gpu = RankerSelector.Select(TrainingDevice.Gpu, Small, 5, 1);
            Assert.IsType<IlgpuBatchRecommender>(gpu.Ranker);
            return;
        }
        Assert.Contains("no CUDA device", Assert.Throws<InvalidOperationException>(() => RankerSelector.Select(TrainingDevice.Gpu, Small, 5, 1)).Message);
        using var auto = RankerSelector.Select(TrainingDevice.Auto, Small, 5, 1);
        Assert.IsType<BatchRecommender>(auto.Ranker);
        Assert.Contains("no CUDA device", auto.Reason);
    }

    [Fact]
    public void What_the_device_cannot_take_goes_to_the_cpu_or_is_refused_by_name()
    {
        using (var auto = RankerSelector.Select(TrainingDevice.Auto, Small, TopNKernels.MaxTopN + 1, 1))
        {
            Assert.IsType<BatchRecommender>(auto.Ranker);
            Assert.Contains("at most 128 per user", auto.Reason);
        }
        Assert.Contains("--k 129", Assert.Throws<InvalidOperationException>(() => RankerSelector.Select(TrainingDevice.IlgpuCpu, Small, 129, 1)).Message);
        using var ilgpu = RankerSelector.Select(TrainingDevice.IlgpuCpu, Small, 5, 1);
        Assert.IsType<IlgpuBatchRecommender>(ilgpu.Ranker);
        Assert.Contains("CPU", ilgpu.Ranker.Device, StringComparison.OrdinalIgnoreCase);
    }
}
