using System.Diagnostics;
using ILGPU;
using System.Numerics.Tensors;
using ILGPU.Runtime;
using RecSys.Engine.Als;
using RecSys.Engine.Sparse;

namespace RecSys.Engine.Compute.Gpu;

/// <summary>
/// ALS on an ILGPU accelerator (CUDA, or the CPU accelerator for verification). Both CSR orientations,
/// their confidences and both factor matrices are copied to the device once and stay there for the
/// whole run; each half-sweep computes YᵀY + λI on the device and runs the CG kernel over all rows.
/// Kernels are compiled once, when the trainer is created. Starts from the same seeded factors as the
/// CPU trainer, in float32 with float32 accumulation.
/// </summary>
public sealed class IlgpuAlsTrainer : IAlsTrainer, IDisposable
{
    private readonly Accelerator _accelerator;
    private readonly Action<KernelConfig, ArrayView<int>, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> _cg;
    private readonly Action<Index2D, ArrayView<float>, int, int, ArrayView<float>> _gramPartial;
    private readonly Action<Index1D, ArrayView<float>, int, int, float, ArrayView<float>> _gramReduce;
    private readonly List<MemoryBuffer> _buffers = [];
    private readonly int _groupSize;

    public IlgpuAlsTrainer(Accelerator accelerator, AlsOptions options)
    {
        options.Validate();
        if (options.Factors > AlsKernels.MaxFactors)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Factors, $"the GPU trainer takes at most {AlsKernels.MaxFactors} factors");
        }
        if (!RowRegularization.From(options).Uniform)
        {
            throw new ArgumentException("the GPU trainer has no frequency-scaled regularization yet (--reg-exponent 0); use --device cpu");
        }
        if (options.Solver != AlsSolver.ConjugateGradient)
        {
            throw new ArgumentException("the GPU trainer solves with conjugate gradient only; use --device cpu for --solver cholesky");
        }
        _accelerator = accelerator;
        Options = options;
        // A warp on CUDA. The CPU accelerator simulates threads, and every group barrier costs a real
        // thread rendezvous, so there the smallest group (its warp of 4) is by far the fastest.
        int limit = accelerator.AcceleratorType == AcceleratorType.CPU ? Math.Min(4, accelerator.WarpSize) : AlsKernels.MaxGroupSize;
        _groupSize = 1 << (int)Math.Log2(Math.Max(1, Math.Min(limit, accelerator.MaxNumThreadsPerGroup)));
        _cg = accelerator.LoadStreamKernel<ArrayView<int>, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(AlsKernels.ConjugateGradient);
        _gramPartial = accelerator.LoadAutoGroupedStreamKernel<Index2D, ArrayView<float>, int, int, ArrayView<float>>(AlsKernels.GramPartial);
        _gramReduce = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, int, int, float, ArrayView<float>>(AlsKernels.GramReduce);
    }

    public AlsOptions Options { get; }
    public string Device => $"{_accelerator.AcceleratorType} ({_accelerator.Name})";

    /// <summary>Bytes allocated on the device by the last <see cref="Fit"/> (the peak: nothing is freed mid-run).</summary>
    public long PeakDeviceBytes { get; private set; }

    /// <summary>Bytes a run needs on the device, to decide whether it fits before starting.</summary>
    public static long EstimateBytes(int users, int items, long nnz, int factors)
    {
        long csr = 2 * (nnz * (4 + 4) + 4L * (users + 1) + 4L * (items + 1)) + 4L * (users + items);
        long fixedSide = 4L * factors * (users + items);
        long gram = 4L * factors * factors * (2 + (Math.Max(users, items) + AlsKernels.GramChunk - 1) / AlsKernels.GramChunk);
        return csr + fixedSide + gram;
    }

    public AlsFactors Fit(CsrMatrix userItems, CsrMatrix itemUsers, Action<IterationReport>? onIteration = null, CancellationToken cancellationToken = default)
    {
        if (itemUsers.Rows != userItems.Cols || itemUsers.Cols != userItems.Rows || itemUsers.Nnz != userItems.Nnz)
        {
            throw new ArgumentException("itemUsers must be the transpose of userItems");
        }
        int k = Options.Factors;
        FreeBuffers();
        var started = Stopwatch.StartNew();
        var users = Upload(userItems);
        var items = Upload(itemUsers);
        var x = Allocate(AlsTrainer.InitialFactors(Options, userItems.Rows, 1));
        var y = Allocate(AlsTrainer.InitialFactors(Options, userItems.Cols, 2));
        int maxRows = Math.Max(userItems.Rows, userItems.Cols);
        int chunks = Math.Max(1, (maxRows + AlsKernels.GramChunk - 1) / AlsKernels.GramChunk);
        var partials = Allocate(new float[(long)chunks * k * k]);
        var gram = Allocate(new float[k * k]);
        PeakDeviceBytes = _buffers.Sum(b => b.LengthInBytes);

        var iterationSeconds = new List<double>();
        var losses = new List<double>();
        for (int iteration = 1; iteration <= Options.Iterations; iteration++)
        {
            var iterationStart = started.Elapsed;
            cancellationToken.ThrowIfCancellationRequested();
            SolveSide(users, y, userItems.Cols, x, userItems.Rows, gram, partials);
            SolveSide(items, x, userItems.Rows, y, userItems.Cols, gram, partials);
            _accelerator.Synchronize();
            iterationSeconds.Add((started.Elapsed - iterationStart).TotalSeconds);
            double? loss = null;
            if (Options.CalculateLoss)
            {
                loss = TrainingLoss.Compute(userItems, x.GetAsArray1D(), y.GetAsArray1D(), k, RowRegularization.From(Options), Options.EffectiveThreads);
                losses.Add(loss.Value);
            }
            onIteration?.Invoke(new IterationReport(iteration, Options.Iterations, started.Elapsed, loss));
        }
        var result = new AlsFactors(k, x.GetAsArray1D(), y.GetAsArray1D(), started.Elapsed.TotalSeconds, iterationSeconds, losses);
        FreeBuffers();
        return result;
    }

    private sealed record DeviceCsr(MemoryBuffer1D<int, Stride1D.Dense> Order, MemoryBuffer1D<int, Stride1D.Dense> RowPtr,
        MemoryBuffer1D<int, Stride1D.Dense> Indices, MemoryBuffer1D<float, Stride1D.Dense> Values, int Rows);

    private void SolveSide(DeviceCsr rows, MemoryBuffer1D<float, Stride1D.Dense> fixedFactors, int fixedRows,
        MemoryBuffer1D<float, Stride1D.Dense> target, int targetRows, MemoryBuffer1D<float, Stride1D.Dense> gram, MemoryBuffer1D<float, Stride1D.Dense> partials)
    {
        int k = Options.Factors;
        int chunks = Math.Max(1, (fixedRows + AlsKernels.GramChunk - 1) / AlsKernels.GramChunk);
        _gramPartial(new Index2D(k * k, chunks), fixedFactors.View, fixedRows, k, partials.View);
        _gramReduce(k * k, partials.View, chunks, k, RowRegularization.From(Options).GramDiagonal, gram.View);
        if (targetRows == 0) return;
        _cg(new KernelConfig(targetRows, _groupSize), rows.Order.View, rows.RowPtr.View, rows.Indices.View, rows.Values.View,
            fixedFactors.View, gram.View, target.View, k, Options.CgSteps);
    }

    private DeviceCsr Upload(CsrMatrix m)
    {
        // Longest rows first: they start early instead of running alone at the end of the launch.
        int[] order = Enumerable.Range(0, m.Rows).ToArray();
        int[] lengths = order.Select(m.RowLength).ToArray();
        Array.Sort(lengths.Select(l => -l).ToArray(), order);
        return new DeviceCsr(
            Allocate(order), Allocate(m.RowPtr),
            Allocate(m.Nnz == 0 ? new int[1] : m.ColIndices[..m.Nnz]),
            // Confidences over α₀ (RowRegularization: the same system, the same kernels).
            Allocate(m.Nnz == 0 ? new float[1] : Scaled(m.Values[..m.Nnz], RowRegularization.From(Options).ConfidenceScale)),
            m.Rows);
    }

    private static float[] Scaled(float[] values, float scale)
    {
        if (scale == 1) return values;
        var scaled = new float[values.Length];
        TensorPrimitives.Multiply(values, scale, scaled);
        return scaled;
    }

    private MemoryBuffer1D<T, Stride1D.Dense> Allocate<T>(T[] values) where T : unmanaged
    {
        var buffer = _accelerator.Allocate1D(values.Length == 0 ? new T[1] : values);
        _buffers.Add(buffer);
        return buffer;
    }

    private void FreeBuffers()
    {
        foreach (var b in _buffers) b.Dispose();
        _buffers.Clear();
    }

    public void Dispose() => FreeBuffers();
}
