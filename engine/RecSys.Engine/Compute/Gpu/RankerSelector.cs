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
                if (IlgpuBatchRecommender.Unable(model.Factors, k) is { } why) throw new InvalidOperationException($"--device ilgpu-cpu: {why}");
                var context = Context.Create(b => b.DefaultCPU());
                return Lease(context, context.CreateCPUAccelerator(0), model, "ILGPU CPU accelerator requested (verification only: slow)");
            }
            default:
            {
                if (IlgpuBatchRecommender.Unable(model.Factors, k) is { } why) return Fallback(device, model, threads, why);
                var (context, cuda, unavailable) = CudaProbe.Open();
                if (context is null || cuda is null) return Fallback(device, model, threads, unavailable!);
                long need = IlgpuBatchRecommender.EstimateBytes(model, model.UserCount, k);
                if (need > cuda.MemorySize * 9 / 10)
                {
                    context.Dispose();
                    return Fallback(device, model, threads, $"ranking needs about {need / 1e9:F1} GB of device memory and {cuda.Name} has {cuda.MemorySize / 1e9:F1} GB");
                }
                return Lease(context, cuda.CreateAccelerator(context), model, $"CUDA device {cuda.Name} ({cuda.MemorySize / 1e9:F1} GB)");
            }
        }
    }

    /// <summary>The device ranker, holding its accelerator and context; both are released if it cannot be made.</summary>
    private static SelectedRanker Lease(Context context, Accelerator accelerator, RecModel model, string reason)
    {
        try
        {
            return new SelectedRanker(new IlgpuBatchRecommender(accelerator, model), reason, new AcceleratorLease(accelerator, context));
        }
        catch
        {
            new AcceleratorLease(accelerator, context).Dispose();
            throw;
        }
    }

    private static SelectedRanker Fallback(TrainingDevice device, RecModel model, int threads, string why)
    {
        if (device == TrainingDevice.Gpu) throw new InvalidOperationException($"--device gpu: {why}. Use --device auto or cpu.");
        return new SelectedRanker(new BatchRecommender(model, threads: threads), $"cpu: {why}", null);
    }
}
