using ILGPU;
using ILGPU.Runtime.Cuda;

namespace RecSys.Engine.Compute.Gpu;

/// <summary>Finds the first CUDA device through ILGPU, or says why there is none (training and ranking both ask).</summary>
internal static class CudaProbe
{
    /// <summary>
    /// The context and device, or null and the reason. <c>Context.Create(b => b.Cuda())</c> does not throw
    /// where there is no driver; anything that does throw is a reason too, never a crash.
    /// </summary>
    public static (Context? Context, CudaDevice? Device, string? Why) Open()
    {
        Context context;
        try
        {
            context = Context.Create(b => b.Cuda());
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return (null, null, $"ILGPU could not initialise CUDA: {e.Message}");
        }
        var cuda = context.Devices.OfType<CudaDevice>().FirstOrDefault();
        if (cuda is null)
        {
            context.Dispose();
            return (null, null, "ILGPU found no CUDA device");
        }
        return (context, cuda, null);
    }
}
