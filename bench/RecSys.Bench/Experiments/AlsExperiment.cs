using System.Diagnostics;
using System.Text.Json;
using RecSys.Engine.Als;
using RecSys.Engine.Sparse;

namespace RecSys.Bench.Experiments;

/// <summary>
/// <c>als [--users 50000] [--items 20000] [--nnz 2000000] [--factors 64] [--iterations 5] [--threads 0] [--solver cg|cholesky] [--cg-steps 3]</c>:
/// seconds per iteration on a synthetic power-law matrix (median over iterations; one warm-up iteration
/// first so JIT tiering is not measured). Prints JSON.
/// </summary>
public static class AlsExperiment
{
    public static int Run(string[] args)
    {
        int users = int.Parse(Experiment.Arg(args, "--users") ?? "50000");
        int items = int.Parse(Experiment.Arg(args, "--items") ?? "20000");
        int nnz = int.Parse(Experiment.Arg(args, "--nnz") ?? "2000000");
        int factors = int.Parse(Experiment.Arg(args, "--factors") ?? "64");
        int iterations = int.Parse(Experiment.Arg(args, "--iterations") ?? "5");
        int threads = int.Parse(Experiment.Arg(args, "--threads") ?? "0");
        int cgSteps = int.Parse(Experiment.Arg(args, "--cg-steps") ?? "3");
        var solver = Experiment.Arg(args, "--solver") == "cholesky" ? AlsSolver.Cholesky : AlsSolver.ConjugateGradient;

        var build = Stopwatch.StartNew();
        var matrix = SyntheticMatrix(users, items, nnz);
        double buildSeconds = build.Elapsed.TotalSeconds;
        var options = new AlsOptions
        {
            Factors = factors, Iterations = iterations, Threads = threads, CgSteps = cgSteps, Solver = solver,
            Bm25 = false, Alpha = 3f, Regularization = 0.01f, Scaling = ConfidenceScaling.Linear,
        };
        var confidence = Confidence.Weight(matrix, options.Scaling, options.Alpha);
        var transpose = confidence.Transpose();
        new AlsTrainer(options with { Iterations = 1 }).Fit(confidence, transpose); // warm-up
        long before = GC.GetTotalAllocatedBytes(true);
        var result = new AlsTrainer(options).Fit(confidence, transpose);
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            users = matrix.Rows,
            items = matrix.Cols,
            nnz = matrix.Nnz,
            factors,
            threads = options.EffectiveThreads,
            solver = solver.ToString(),
            cg_steps = cgSteps,
            iterations,
            median_seconds_per_iteration = Math.Round(result.SecondsPerIteration, 4),
            seconds_per_iteration = result.IterationSeconds.Select(s => Math.Round(s, 4)),
            allocated_mb_during_training = Math.Round((GC.GetTotalAllocatedBytes(true) - before) / 1e6, 1),
            peak_working_set_mb = Math.Round(Process.GetCurrentProcess().PeakWorkingSet64 / 1e6, 0),
            matrix_build_seconds = Math.Round(buildSeconds, 2),
        }));
        return 0;
    }

    /// <summary>
    /// A users × items matrix with exactly <paramref name="nnz"/> distinct entries (when it fits): user
    /// degrees follow a power law over user rank, items are drawn per user with power-law popularity
    /// and without repeats; values are play counts 1..20. Seeded, so every run sees the same matrix.
    /// </summary>
    public static CsrMatrix SyntheticMatrix(int users, int items, int nnz, ulong seed = 11)
    {
        var rng = new RecSys.Engine.Data.SplitMix(seed);
        var weight = new double[users];
        double total = 0;
        for (int u = 0; u < users; u++) total += weight[u] = 1.0 / Math.Pow(u + 1, 0.7);
        var degree = new int[users];
        long assigned = 0;
        int cap = Math.Max(1, items / 2);
        for (int u = 0; u < users; u++)
        {
            degree[u] = (int)Math.Clamp(Math.Round(weight[u] / total * nnz), 1, cap);
            assigned += degree[u];
        }
        // Spread the rounding remainder over users with room, round-robin.
        for (int u = 0; assigned < nnz && u < users * 4; u++)
        {
            int v = u % users;
            if (degree[v] < cap) { degree[v]++; assigned++; }
        }
        var rowPtr = new int[users + 1];
        for (int u = 0; u < users; u++) rowPtr[u + 1] = rowPtr[u] + degree[u];
        var cols = new int[rowPtr[users]];
        var vals = new float[rowPtr[users]];
        var seen = new HashSet<int>();
        // Item popularity: a seeded permutation of items, sampled with a power law over rank.
        var perm = Enumerable.Range(0, items).ToArray();
        for (int i = items - 1; i > 0; i--) { int j = rng.NextInt(i + 1); (perm[i], perm[j]) = (perm[j], perm[i]); }
        for (int u = 0; u < users; u++)
        {
            seen.Clear();
            int start = rowPtr[u];
            while (seen.Count < degree[u])
            {
                int rank = seen.Count > degree[u] / 2 && degree[u] > items / 8
                    ? rng.NextInt(items)
                    : (int)Math.Pow(items + 1, rng.NextDouble()) - 1;
                int item = perm[Math.Clamp(rank, 0, items - 1)];
                if (seen.Add(item)) cols[start + seen.Count - 1] = item;
            }
            Array.Sort(cols, start, degree[u]);
            for (int k = start; k < start + degree[u]; k++) vals[k] = 1 + rng.NextInt(20);
        }
        return new CsrMatrix(users, items, rowPtr, cols, vals);
    }
}
