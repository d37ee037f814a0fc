using ILGPU;
using ILGPU.Runtime;

namespace RecSys.Engine.Compute.Gpu;

/// <summary>An accelerator and its context, disposed together when the trainer or ranker using them is done.</summary>
internal sealed class AcceleratorLease(Accelerator accelerator, Context context) : IDisposable
{
    public void Dispose()
    {
        accelerator.Dispose();
        context.Dispose();
    }
}
