using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using RecSys.Engine.Als;
using RecSys.Engine.Compute.Gpu;
using RecSys.Engine.Sparse;
using RecSys.Tests.Als;

namespace RecSys.Tests.Gpu;

/// <summary>
/// The ILGPU trainer against the CPU trainer (the oracle), run by a subclass per accelerator: ILGPU's
/// CPU accelerator always (small problems: it simulates GPU threads), CUDA where a device exists.
/// </summary>
public abstract class IlgpuTrainerTests : IDisposable
{
    private readonly Context _context;

    protected IlgpuTrainerTests(Func<Context, Accelerator?> create, Action<Context.Builder> configure)
    {
        _context = Context.Create(configure);
        Accelerator = create(_context);
    }

    protected Accelerator? Accelerator { get; }

    /// <summary>Problem size for this accelerator: tiny on the CPU accelerator.</summary>
    protected abstract (int Users, int Items, int Nnz) Size { get; }

    public void Dispose()
    {
        Accelerator?.Dispose();
        _context.Dispose();
    }

    private static CsrMatrix Confidence(CsrMatrix raw) => RecSys.Engine.Sparse.Confidence.Weight(raw, ConfidenceScaling.Linear, 3f);

    protected void One_iteration_matches_the_cpu_trainer(int factors, float unobservedWeight = 1f)
    {
        var (u, i, n) = Size;
        var c = Confidence(AlsTestData.Random(u, i, n, (ulong)factors));
        var options = new AlsOptions { Factors = factors, Iterations = 1, Regularization = 0.1f, Threads = 1, UnobservedWeight = unobservedWeight };
        var cpu = new AlsTrainer(options).Fit(c, c.Transpose());
        using var gpu = new IlgpuAlsTrainer(Accelerator!, options);
        var dev = gpu.Fit(c, c.Transpose());
        // Same start, same steps; only the float summation order differs. Tolerance: 2e-3 of the largest factor.
        double scale = Math.Max(cpu.UserFactors.Max(Math.Abs), cpu.ItemFactors.Max(Math.Abs));
        Tolerance.AssertClose(cpu.UserFactors, dev.UserFactors, 2e-3 * scale, 2e-3, "user factors");
        Tolerance.AssertClose(cpu.ItemFactors, dev.ItemFactors, 2e-3 * scale, 2e-3, "item factors");
        Assert.True(gpu.PeakDeviceBytes > 0);
    }

    protected void Training_agrees_on_loss_and_top10(int iterations, float unobservedWeight = 1f)
    {
        var (u, i, n) = Size;
        var c = Confidence(AlsTestData.Random(u, i, n, 77));
        var options = new AlsOptions { Factors = 8, Iterations = iterations, Regularization = 0.1f, CalculateLoss = true, UnobservedWeight = unobservedWeight };
        var cpu = new AlsTrainer(options).Fit(c, c.Transpose());
        using var gpu = new IlgpuAlsTrainer(Accelerator!, options);
        var dev = gpu.Fit(c, c.Transpose());
        // Training loss within 1%.
        Tolerance.AssertClose(cpu.Losses[^1], dev.Losses[^1], 0, 0.01, "final loss");
        // Top-10 of every user overlaps at least 90% on average.
        double overlap = 0;
        for (int user = 0; user < u; user++)
        {
            overlap += cpu.TopItems(user, 10, c.RowIndices(user)).Intersect(dev.TopItems(user, 10, c.RowIndices(user))).Count() / 10.0;
        }
        Assert.True(overlap / u >= 0.9, $"mean top-10 overlap {overlap / u:F3}");
    }

    protected void Empty_rows_and_huge_weights_stay_finite()
    {
        // User 0 has nothing, item 3 is never played, one weight is enormous.
        var raw = CsrBuilder.FromCoo(4, 5, [1, 2, 2, 3], [0, 0, 1, 4], [1f, 1e6f, 2f, 1f]);
        var c = Confidence(raw);
        using var gpu = new IlgpuAlsTrainer(Accelerator!, new AlsOptions { Factors = 4, Iterations = 2 });
        var f = gpu.Fit(c, c.Transpose());
        Assert.All(f.UserFactors, v => Assert.True(float.IsFinite(v)));
        Assert.All(f.ItemFactors, v => Assert.True(float.IsFinite(v)));
    }
}

/// <summary>The kernels on ILGPU's CPU accelerator: runs everywhere, CI included.</summary>
public sealed class IlgpuCpuTrainerTests() : IlgpuTrainerTests(c => c.CreateCPUAccelerator(0), b => b.DefaultCPU())
{
    protected override (int Users, int Items, int Nnz) Size => (23, 17, 90);

    [Theory]
    [InlineData(5)]
    [InlineData(8)]
    public void One_iteration_matches_cpu(int factors) => One_iteration_matches_the_cpu_trainer(factors);

    [Theory]
    [InlineData(0.25f)]
    [InlineData(4f)]
    public void The_unobserved_weight_matches_cpu(float weight) => One_iteration_matches_the_cpu_trainer(7, weight);

    [Fact]
    public void Frequency_scaled_regularization_is_refused_with_the_reason() =>
        Assert.Contains("--reg-exponent 0", Assert.Throws<ArgumentException>(() => new IlgpuAlsTrainer(Accelerator!, new AlsOptions { RegularizationExponent = 1 })).Message);

    [Fact]
    public void Agreement_after_training() => Training_agreement(4);

    [Fact]
    public void Agreement_with_an_unobserved_weight() => Training_agrees_on_loss_and_top10(4, unobservedWeight: 4f);

    private void Training_agreement(int iterations) => Training_agrees_on_loss_and_top10(iterations);

    [Fact]
    public void Finite_on_edge_cases() => Empty_rows_and_huge_weights_stay_finite();
}

/// <summary>The same checks on CUDA, where ILGPU finds a device; skipped (with the reason) where it finds none.</summary>
public sealed class IlgpuCudaTrainerTests() : IlgpuTrainerTests(
    c => c.Devices.OfType<CudaDevice>().FirstOrDefault()?.CreateAccelerator(c), b => b.Cuda())
{
    protected override (int Users, int Items, int Nnz) Size => (3000, 2000, 60_000);

    [CudaFact]
    public void One_iteration_matches_cpu_64() => One_iteration_matches_the_cpu_trainer(64);

    [CudaFact]
    public void Agreement_after_training() => Training_agrees_on_loss_and_top10(10);

    [CudaFact]
    public void Finite_on_edge_cases() => Empty_rows_and_huge_weights_stay_finite();
}

/// <summary>A fact that runs only where ILGPU finds a CUDA device.</summary>
public sealed class CudaFactAttribute : FactAttribute
{
    private static readonly Lazy<bool> HasCuda = new(() =>
    {
        try
        {
            using var context = Context.Create(b => b.Cuda());
            return context.Devices.OfType<CudaDevice>().Any();
        }
        catch (Exception)
        {
            return false;
        }
    });

    public CudaFactAttribute()
    {
        if (!HasCuda.Value) Skip = "no CUDA device: ILGPU found none on this machine (runs on GPU machines)";
    }
}

public sealed class DeviceSelectorTests
{
    private static readonly CsrMatrix Small = AlsTestData.Random(10, 8, 30, 1);

    [Fact]
    public void Gpu_without_a_device_fails_clearly_and_auto_falls_back_to_cpu()
    {
        bool hasCuda;
        using (var context = Context.Create(b => b.Cuda())) hasCuda = context.Devices.OfType<CudaDevice>().Any();
        if (hasCuda)
        {
            using var gpu = DeviceSelector.Select(TrainingDevice.Gpu, new AlsOptions(), Small);
            Assert.IsType<IlgpuAlsTrainer>(gpu.Trainer);
            return;
        }
        var e = Assert.Throws<InvalidOperationException>(() => DeviceSelector.Select(TrainingDevice.Gpu, new AlsOptions(), Small));
        Assert.Contains("no CUDA device", e.Message);
        using var auto = DeviceSelector.Select(TrainingDevice.Auto, new AlsOptions(), Small);
        Assert.IsType<AlsTrainer>(auto.Trainer);
        Assert.Contains("no CUDA device", auto.Reason);
    }

    [Fact]
    public void Names_parse_and_unknown_names_are_refused()
    {
        Assert.Equal(TrainingDevice.IlgpuCpu, DeviceSelector.Parse("ilgpu-cpu"));
        Assert.Equal(TrainingDevice.Gpu, DeviceSelector.Parse("GPU"));
        Assert.Contains("tpu", Assert.Throws<ArgumentException>(() => DeviceSelector.Parse("tpu")).Message);
        using var ilgpu = DeviceSelector.Select(TrainingDevice.IlgpuCpu, new AlsOptions { Factors = 4 }, Small);
        Assert.IsType<IlgpuAlsTrainer>(ilgpu.Trainer);
        Assert.Contains("CPU", ilgpu.Trainer.Device, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Gpu_trainer_refuses_what_it_cannot_do()
    {
        using var context = Context.Create(b => b.DefaultCPU());
        using var accelerator = context.CreateCPUAccelerator(0);
        Assert.Throws<ArgumentOutOfRangeException>(() => new IlgpuAlsTrainer(accelerator, new AlsOptions { Factors = 300 }));
        Assert.Throws<ArgumentException>(() => new IlgpuAlsTrainer(accelerator, new AlsOptions { Solver = AlsSolver.Cholesky }));
    }
}
