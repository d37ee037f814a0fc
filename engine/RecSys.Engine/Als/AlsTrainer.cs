using System.Diagnostics;
using System.Numerics.Tensors;
using RecSys.Engine.Compute;
using RecSys.Engine.Data;
using RecSys.Engine.Sparse;

namespace RecSys.Engine.Als;

/// <summary>
/// Implicit-feedback ALS (Hu, Koren and Volinsky 2008) on the CPU. Each iteration solves all users
/// against fixed items, then all items against fixed users; each half-sweep computes YᵀY (+ λI when λ
/// is the same for every row, RowRegularization) once and solves rows in parallel with per-thread scratch. Given the same seed the factors are
/// identical for any thread count: every row's solve depends only on fixed inputs, and YᵀY is
/// summed in a fixed order.
/// </summary>
public sealed class AlsTrainer(AlsOptions options) : IAlsTrainer
{
    /// <summary>Rows claimed per scheduling step: small, because row lengths follow a power law.</summary>
    private const int Chunk = 32;

    public AlsOptions Options { get; } = options;

    public string Device => $"cpu ({Options.EffectiveThreads} threads)";

    /// <summary>Trains on a confidence matrix (users × items, values c = 1 + alpha·f(r)).</summary>
    public AlsFactors Fit(
        CsrMatrix userItems, CsrMatrix itemUsers,
        Action<IterationReport>? onIteration = null, CancellationToken cancellationToken = default)
    {
        Options.Validate();
        if (itemUsers.Rows != userItems.Cols || itemUsers.Cols != userItems.Rows || itemUsers.Nnz != userItems.Nnz)
        {
            throw new ArgumentException("itemUsers must be the transpose of userItems");
        }
        int k = Options.Factors;
        var regularization = RowRegularization.From(Options);
        var trainedOn = userItems;
        if (regularization.ScalesConfidence)
        {
            // α₀: every confidence over α₀, once for the whole run (RowRegularization explains why this is exact).
            userItems = ScaleConfidence(userItems, regularization.ConfidenceScale);
            itemUsers = ScaleConfidence(itemUsers, regularization.ConfidenceScale);
        }
        float[] x = InitialFactors(Options, userItems.Rows, 1);
        float[] y = InitialFactors(Options, userItems.Cols, 2);
        var started = Stopwatch.StartNew();
        var iterationSeconds = new List<double>();
        var losses = new List<double>();
        for (int iteration = 1; iteration <= Options.Iterations; iteration++)
        {
            var iterationStart = started.Elapsed;
            cancellationToken.ThrowIfCancellationRequested();
            SolveSide(userItems, y, x);
            cancellationToken.ThrowIfCancellationRequested();
            SolveSide(itemUsers, x, y);
            iterationSeconds.Add((started.Elapsed - iterationStart).TotalSeconds);
            double? loss = Options.CalculateLoss ? TrainingLoss.Compute(trainedOn, x, y, k, regularization, Options.EffectiveThreads) : null;
            if (loss is { } l) losses.Add(l);
            onIteration?.Invoke(new IterationReport(iteration, Options.Iterations, started.Elapsed, loss));
        }
        return new AlsFactors(k, x, y, started.Elapsed.TotalSeconds, iterationSeconds, losses);
    }

    private static CsrMatrix ScaleConfidence(CsrMatrix m, float scale)
    {
        var values = new float[m.Nnz];
        TensorPrimitives.Multiply(m.Values.AsSpan(0, m.Nnz), scale, values);
        return m.WithValues(values);
    }

    /// <summary>
    /// Recomputes every row of <paramref name="target"/> from the fixed <paramref name="fixedFactors"/>
    /// (confidences already scaled by 1/α₀ where <see cref="AlsOptions.UnobservedWeight"/> is not 1).
    /// </summary>
    public void SolveSide(CsrMatrix rows, float[] fixedFactors, float[] target)
    {
        int k = Options.Factors;
        var regularization = RowRegularization.From(Options);
        float[] gram = Gramian.Compute(fixedFactors, rows.Cols, k, regularization.GramDiagonal, Options.EffectiveThreads);
        if (Options.Solver == AlsSolver.Cholesky)
        {
            RowScheduler.Run(rows.Rows, Options.EffectiveThreads, Chunk, () => new Cholesky.Scratch(k), (start, end, scratch) =>
            {
                for (int r = start; r < end; r++)
                {
                    Cholesky.SolveRow(gram, fixedFactors, k, rows.RowIndices(r), rows.RowValues(r), target.AsSpan(r * k, k), scratch,
                        regularization.RowDiagonal(rows.RowLength(r)));
                }
            });
            return;
        }
        int steps = Options.CgSteps;
        RowScheduler.Run(rows.Rows, Options.EffectiveThreads, Chunk, () => new ConjugateGradient.Scratch(k), (start, end, scratch) =>
        {
            for (int r = start; r < end; r++)
            {
                ConjugateGradient.SolveRow(gram, fixedFactors, k, rows.RowIndices(r), rows.RowValues(r), target.AsSpan(r * k, k), steps, scratch,
                    regularization.RowDiagonal(rows.RowLength(r)));
            }
        });
    }

    /// <summary>The seeded starting factors (stream 1 users, 2 items), shared by every backend.</summary>
    public static float[] InitialFactors(AlsOptions options, int rows, ulong stream)
    {
        var values = new float[(long)rows * options.Factors];
        var rng = new SplitMix(options.Seed, stream);
        float scale = options.InitScale;
        for (int i = 0; i < values.Length; i++) values[i] = rng.NextFloat() * scale;
        return values;
    }
}
