namespace RecSys.Engine.Compute.Gpu;

/// <summary>Where training runs: <c>--device auto|cpu|gpu|ilgpu-cpu</c>.</summary>
public enum TrainingDevice
{
    /// <summary>CUDA when ILGPU finds a device with enough memory, otherwise the CPU trainer (the reason is logged).</summary>
    Auto,
    /// <summary>The SIMD CPU trainer.</summary>
    Cpu,
    /// <summary>CUDA through ILGPU; fails with a clear message when there is none.</summary>
    Gpu,
    /// <summary>The ILGPU kernels on ILGPU's CPU accelerator: slow, for verifying kernels without a GPU.</summary>
    IlgpuCpu,
}
