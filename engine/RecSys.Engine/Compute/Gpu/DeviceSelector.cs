using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using RecSys.Engine.Als;
using RecSys.Engine.Sparse;

namespace RecSys.Engine.Compute.Gpu;

/// <summary>A chosen trainer, the ILGPU objects it needs kept alive, and why it was chosen.</summary>
public sealed class SelectedTrainer(IAlsTrainer trainer, string reason, IDisposable? owned) : IDisposable
{
    public IAlsTrainer Trainer { get; } = trainer;
    public string Reason { get; } = reason;

    public void Dispose()
    {
        (Trainer as IDisposable)?.Dispose();
        owned?.Dispose();
    }
}

/// <summary>Probes ILGPU for CUDA and picks the trainer for a device choice (implicit's factory, in effect).</summary>
public static class DeviceSelector
{
    public static TrainingDevice Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "auto" => TrainingDevice.Auto,
        "cpu" => TrainingDevice.Cpu,
        "gpu" or "cuda" => TrainingDevice.Gpu,
        "ilgpu-cpu" => TrainingDevice.IlgpuCpu,
        _ => throw new ArgumentException($"Unknown device '{name}'. Known: auto, cpu, gpu, ilgpu-cpu."),
    };

    public static SelectedTrainer Select(TrainingDevice device, AlsOptions options, CsrMatrix userItems)
    {
        switch (device)
        {
            case TrainingDevice.Cpu:
                return new SelectedTrainer(new AlsTrainer(options), "cpu requested", null);
            case TrainingDevice.IlgpuCpu:
            {
                var context = Context.Create(b => b.DefaultCPU());
                var accelerator = context.CreateCPUAccelerator(0);
                try
                {
                    return new SelectedTrainer(new IlgpuAlsTrainer(accelerator, options), "ILGPU CPU accelerator requested (verification only: slow)", new AcceleratorLease(accelerator, context));
                }
                catch (ArgumentException)
                {
                    new AcceleratorLease(accelerator, context).Dispose();
                    throw;
                }
            }
            default:
            {
                // What the device trainer cannot do is known before any device is probed.
                if (!RowRegularization.From(options).Uniform) return Fallback(device, options, "the GPU trainer has no frequency-scaled regularization yet (--reg-exponent 0)");
                var (context, cuda, why) = CudaProbe.Open();
                if (context is null || cuda is null) return Fallback(device, options, why!);
                long need = IlgpuAlsTrainer.EstimateBytes(userItems.Rows, userItems.Cols, userItems.Nnz, options.Factors);
                if (need > cuda.MemorySize * 9 / 10)
                {
                    context.Dispose();
                    return Fallback(device, options, $"the run needs about {need / 1e9:F1} GB of device memory and {cuda.Name} has {cuda.MemorySize / 1e9:F1} GB");
                }
                if (options.Solver != AlsSolver.ConjugateGradient || options.Factors > AlsKernels.MaxFactors)
                {
                    context.Dispose();
                    return Fallback(device, options, $"the GPU trainer needs --solver cg and at most {AlsKernels.MaxFactors} factors");
                }
                var accelerator = cuda.CreateAccelerator(context);
                return new SelectedTrainer(new IlgpuAlsTrainer(accelerator, options), $"CUDA device {cuda.Name} ({cuda.MemorySize / 1e9:F1} GB)", new AcceleratorLease(accelerator, context));
            }
        }
    }

    private static SelectedTrainer Fallback(TrainingDevice device, AlsOptions options, string why)
    {
        if (device == TrainingDevice.Gpu) throw new InvalidOperationException($"--device gpu: {why}. Use --device auto or cpu.");
        return new SelectedTrainer(new AlsTrainer(options), $"cpu: {why}", null);
    }
}
