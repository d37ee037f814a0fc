using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using RecSys.Engine.Model;
using RecSys.Engine.Recommend;

namespace RecSys.Engine.Compute.Gpu;

/// <summary>A chosen batch ranker, the ILGPU objects it needs kept alive, and why it was chosen.</summary>
public sealed class SelectedRanker(IBatchRanker ranker, string reason, IDisposable? owned) : IDisposable
{
    public IBatchRanker Ranker { get; } = ranker;
    public string Reason { get; } = reason;

    public void Dispose()
    {
        (Ranker as IDisposable)?.Dispose();
        owned?.Dispose();
    }
}

/// <summary>Picks where <c>recommend</c> ranks: the device's batch top-N when asked for and able, else the CPU's.</summary>
public static class RankerSelector
{
    public static SelectedRanker Select(TrainingDevice device, RecModel model, int k, int threads)
    {
        switch (device)
        {
            case TrainingDevice.Cpu:
                return new SelectedRanker(new BatchRecommender(model, threads: threads), "cpu requested", null);
            case TrainingDevice.IlgpuCpu:
            {
                if (Unable(model, k) is { } why) throw new InvalidOperationException($"--device ilgpu-cpu: {why}");
                var context = Context.Create(b => b.DefaultCPU());
                var accelerator = context.CreateCPUAccelerator(0);
                return new SelectedRanker(new IlgpuBatchRecommender(accelerator, model), "ILGPU CPU accelerator requested (verification only: slow)", new AcceleratorLease(accelerator, context));
            }
            default:
            {
                if (Unable(model, k) is { } why) return Fallback(device, model, threads, why);
                Context context;
                try
                {
                    context = Context.Create(b => b.Cuda());
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    return Fallback(device, model, threads, $"ILGPU could not initialise CUDA: {e.Message}");
                }
                var cuda = context.Devices.OfType<CudaDevice>().FirstOrDefault();
                if (cuda is null)
                {
                    context.Dispose();
                    return Fallback(device, model, threads, "ILGPU found no CUDA device");
                }
                long need = IlgpuBatchRecommender.EstimateBytes(model) + 12L * Math.Min(IlgpuBatchRecommender.UsersPerLaunch, model.UserCount) * k;
                if (need > cuda.MemorySize * 9 / 10)
                {
                    context.Dispose();
                    return Fallback(device, model, threads, $"ranking needs about {need / 1e9:F1} GB of device memory and {cuda.Name} has {cuda.MemorySize / 1e9:F1} GB");
                }
                var accelerator = cuda.CreateAccelerator(context);
                return new SelectedRanker(new IlgpuBatchRecommender(accelerator, model), $"CUDA device {cuda.Name} ({cuda.MemorySize / 1e9:F1} GB)", new AcceleratorLease(accelerator, context));
            }
        }
    }

    /// <summary>What the device kernel cannot take, known before any device is probed.</summary>
    private static string? Unable(RecModel model, int k) =>
        model.Factors > TopNKernels.MaxFactors ? $"device top-N takes at most {TopNKernels.MaxFactors} factors (the model has {model.Factors})"
        : k > TopNKernels.MaxTopN ? $"device top-N keeps at most {TopNKernels.MaxTopN} per user (--k {k})"
        : null;

    private static SelectedRanker Fallback(TrainingDevice device, RecModel model, int threads, string why)
    {
        if (device == TrainingDevice.Gpu) throw new InvalidOperationException($"--device gpu: {why}. Use --device auto or cpu.");
        return new SelectedRanker(new BatchRecommender(model, threads: threads), $"cpu: {why}", null);
    }
}
