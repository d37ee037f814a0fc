using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using RecSys.Engine.Als;
using RecSys.Engine.Compute.Gpu;
using RecSys.Engine.Sparse;

namespace RecSys.Bench.Experiments;

/// <summary>
/// <c>gpu-check --out DIR [--iterations 15] [--shapes lastfm360k,ml20m,1m] [--factors 64,128] [--topn lastfm360k,1m]</c>:
/// on a CUDA machine, trains synthetic power-law sets at the lastfm-360k, MovieLens-20M (4+ stars) and
/// 1M × 200k × 100M shapes (each where it fits the device) and ranks every user's top 20 on the device
/// (<see cref="GpuTopNCheck"/>); writes DIR/gpu-check.json (after every step) with the device, seconds
/// per iteration, total time, peak device memory, batch top-N seconds, and CPU–GPU agreement of
/// training (loss, top-10 overlap) and of top-N lists. Exits 2 when there is no CUDA device.
/// </summary>
public static class GpuCheck
{
    private static readonly Dictionary<string, (int Users, int Items, int Nnz)> Shapes = new()
    {
        ["lastfm360k"] = (358_868, 160_113, 17_500_000),
        ["ml20m"] = (138_493, 26_744, 9_995_410),
        ["1m"] = (1_000_000, 200_000, 100_000_000),
    };

    public static int Run(string[] args)
    {
        string outDir = Experiment.Arg(args, "--out") ?? ".";
        int iterations = Experiment.PositiveIntArg(args, "--iterations", 15);
        string[] shapes = (Experiment.Arg(args, "--shapes") ?? "lastfm360k,ml20m,1m").Split(',');
        string[] topNShapes = (Experiment.Arg(args, "--topn") ?? "lastfm360k,1m").Split(',', StringSplitOptions.RemoveEmptyEntries);
        int[] factorList = (Experiment.Arg(args, "--factors") ?? "64,128").Split(',').Select(int.Parse).ToArray();
        // Unknown names are refused before minutes of device time are spent on the steps before them.
        foreach (string shape in shapes) if (!Shapes.ContainsKey(shape)) throw new ArgumentException($"--shapes: unknown shape '{shape}' (known: {string.Join(", ", Shapes.Keys)})");
        foreach (string shape in topNShapes) if (!GpuTopNCheck.Shapes.ContainsKey(shape)) throw new ArgumentException($"--topn: unknown shape '{shape}' (known: {string.Join(", ", GpuTopNCheck.Shapes.Keys)})");
        Directory.CreateDirectory(outDir);
        var report = new JsonObject { ["started_at"] = DateTime.UtcNow, ["iterations"] = iterations };
        using var context = Context.Create(b => b.Cuda());
        var cuda = context.Devices.OfType<CudaDevice>().FirstOrDefault();
        if (cuda is null)
        {
            report["error"] = "ILGPU found no CUDA device (check nvidia-smi and that libcuda is on the loader path)";
            Write(outDir, report);
            return 2;
        }
        using var accelerator = cuda.CreateAccelerator(context);
        report["device"] = cuda.Name;
        report["device_memory_gb"] = Math.Round(cuda.MemorySize / 1e9, 1);
        report["compute_capability"] = cuda.Architecture?.ToString();
        report["cpu_cores"] = Environment.ProcessorCount;

        report["agreement"] = Agreement(accelerator);
        Write(outDir, report);
        report["topn_agreement"] = GpuTopNCheck.Agreement(accelerator, 20);
        Write(outDir, report);
        var topN = new JsonArray();
        foreach (string shape in topNShapes)
        {
            topN.Add(GpuTopNCheck.Time(accelerator, shape, 20));
            report["topn"] = topN.DeepClone();
            Write(outDir, report);
        }

        var runs = new JsonArray();
        foreach (string shape in shapes)
        {
            var (users, items, nnz) = Shapes[shape];
            long need = IlgpuAlsTrainer.EstimateBytes(users, items, nnz, factorList.Max());
            if (need > cuda.MemorySize * 9 / 10)
            {
                runs.Add(new JsonObject { ["shape"] = shape, ["skipped"] = $"needs about {need / 1e9:F1} GB of device memory" });
                continue;
            }
            var sw = Stopwatch.StartNew();
            var raw = AlsExperiment.SyntheticMatrix(users, items, nnz);
            var c = Confidence.Weight(raw, ConfidenceScaling.Linear, 3f);
            var t = c.Transpose();
            double generate = sw.Elapsed.TotalSeconds;
            foreach (int factors in factorList)
            {
                var options = new AlsOptions { Factors = factors, Iterations = iterations, Bm25 = false, Alpha = 3f, Regularization = 0.01f };
                using (var warm = new IlgpuAlsTrainer(accelerator, options with { Iterations = 1 })) warm.Fit(c, t); // kernel compilation, first transfers
                using var trainer = new IlgpuAlsTrainer(accelerator, options);
                var f = trainer.Fit(c, t);
                runs.Add(new JsonObject
                {
                    ["shape"] = shape,
                    ["users"] = c.Rows,
                    ["items"] = c.Cols,
                    ["nnz"] = c.Nnz,
                    ["factors"] = factors,
                    ["median_seconds_per_iteration"] = Math.Round(f.SecondsPerIteration, 4),
                    ["seconds_per_iteration"] = new JsonArray(f.IterationSeconds.Select(s => (JsonNode)Math.Round(s, 4)).ToArray()),
                    ["total_seconds"] = Math.Round(f.TrainSeconds, 3),
                    ["peak_device_mb"] = Math.Round(trainer.PeakDeviceBytes / 1e6, 1),
                    ["generate_seconds"] = Math.Round(generate, 1),
                });
                report["runs"] = runs.DeepClone();
                Write(outDir, report);
            }
        }
        report["finished_at"] = DateTime.UtcNow;
        Write(outDir, report);
        Console.WriteLine(report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }

    /// <summary>CPU and GPU trainers on the same small set, seed and options: loss and top-10 overlap.</summary>
    private static JsonObject Agreement(Accelerator accelerator)
    {
        var raw = AlsExperiment.SyntheticMatrix(20_000, 10_000, 500_000);
        var c = Confidence.Weight(raw, ConfidenceScaling.Linear, 3f);
        var t = c.Transpose();
        var options = new AlsOptions { Factors = 64, Iterations = 10, CalculateLoss = true, Bm25 = false, Alpha = 3f, Regularization = 0.01f };
        var cpu = new AlsTrainer(options).Fit(c, t);
        using var trainer = new IlgpuAlsTrainer(accelerator, options);
        var gpu = trainer.Fit(c, t);
        double overlap = 0;
        const int sample = 500;
        for (int u = 0; u < sample; u++) overlap += cpu.TopItems(u, 10, c.RowIndices(u)).Intersect(gpu.TopItems(u, 10, c.RowIndices(u))).Count() / 10.0;
        return new JsonObject
        {
            ["users"] = c.Rows,
            ["items"] = c.Cols,
            ["nnz"] = c.Nnz,
            ["cpu_loss"] = cpu.Losses[^1],
            ["gpu_loss"] = gpu.Losses[^1],
            ["relative_loss_difference"] = Math.Abs(cpu.Losses[^1] - gpu.Losses[^1]) / cpu.Losses[^1],
            ["top10_overlap"] = Math.Round(overlap / sample, 4),
            ["cpu_seconds_per_iteration"] = Math.Round(cpu.SecondsPerIteration, 4),
            ["gpu_seconds_per_iteration"] = Math.Round(gpu.SecondsPerIteration, 4),
        };
    }

    private static void Write(string dir, JsonObject report) =>
        File.WriteAllText(Path.Combine(dir, "gpu-check.json"), report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
}
