using System.Reflection;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using RecSys.Engine.Compute.Gpu;

namespace RecSys.Tests.Gpu;

/// <summary>
/// Every GPU kernel compiled to PTX by ILGPU's CUDA backend for the training nodes' architectures
/// (sm_80: A100; sm_90: H100, H200), without a device. The other GPU tests run the kernels on ILGPU's
/// CPU accelerator, which accepts code the CUDA backend may refuse; such a kernel fails here, in CI,
/// instead of on a GPU node.
/// </summary>
public sealed class PtxCompileTests
{
    /// <summary>The kernels: every public static method of <see cref="AlsKernels"/> and <see cref="TopNKernels"/> (a new one is compiled here without being listed).</summary>
    private static MethodInfo[] Kernels =>
        new[] { typeof(AlsKernels), typeof(TopNKernels) }.SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static))
            .Where(m => m.ReturnType == typeof(void)).OrderBy(m => m.Name).ToArray();

    public static TheoryData<string, string> Cases
    {
        get
        {
            var cases = new TheoryData<string, string>();
            foreach (var kernel in Kernels)
            {
                foreach (string target in Targets.Keys) cases.Add(kernel.Name, target);
            }
            return cases;
        }
    }

    /// <summary>
    /// Architectures with the oldest PTX ISA that supports each (7.0 brought sm_80, 7.8 sm_90), and the
    /// PTX target ILGPU 1.5.3 writes for them: it generates sm_80 code for every newer device (checked:
    /// sm_86 and sm_90 under ISA 7.8 to 8.8 all give <c>.target sm_80</c>), which the driver compiles
    /// for the device it loads on.
    /// </summary>
    private static readonly Dictionary<string, (CudaArchitecture Architecture, CudaInstructionSet Isa, string Version, string Emitted)> Targets = new()
    {
        ["sm_80"] = (CudaArchitecture.SM_80, CudaInstructionSet.ISA_70, "7.0", "sm_80"),
        ["sm_90"] = (CudaArchitecture.SM_90, CudaInstructionSet.ISA_78, "7.8", "sm_80"),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Kernel_compiles_to_ptx(string kernel, string target)
    {
        var method = Kernels.Single(m => m.Name == kernel);
        var (architecture, isa, version, emitted) = Targets[target];
        using var context = Context.Create(b => b.Cuda());
        // No NVVM: the kernels use no libdevice functions, and PTX text is all that is checked.
        var backend = new PTXBackend(context, architecture, isa, nvvmAPI: null!);
        // A kernel whose first parameter is an index is implicitly grouped (auto-grouped when loaded);
        // the others choose their group size and use shared memory (explicitly grouped).
        bool implicitlyGrouped = method.GetParameters()[0].ParameterType.Name.StartsWith("Index", StringComparison.Ordinal);
        var entry = implicitlyGrouped ? EntryPointDescription.FromImplicitlyGroupedKernel(method) : EntryPointDescription.FromExplicitlyGroupedKernel(method);
        var compiled = (PTXCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty);
        string ptx = compiled.PTXAssembly;
        Assert.Contains($".version {version}", ptx);
        Assert.Contains($".target {emitted}", ptx);
        Assert.Contains(".visible .entry", ptx);
    }

    [Fact]
    public void Every_kernel_the_trainer_and_the_ranker_load_is_compiled_here()
    {
        Assert.Equal(["ConjugateGradient", "GramPartial", "GramReduce", "UserTopN"], Kernels.Select(k => k.Name));
    }
}
