using System.Diagnostics;
using System.Text.Json;
using RecSys.Bench.Suites;
using RecSys.Engine.Sparse;

namespace RecSys.Bench.Experiments;

/// <summary>
/// <c>csr --rows 50000000 [--users 1000000] [--items 200000] [--runs 3]</c>: CSR + transpose build time at a
/// size too large for BenchmarkDotNet's repeated runs. Prints the median over runs as JSON.
/// </summary>
public static class CsrExperiment
{
    public static int Run(string[] args)
    {
        int rows = int.Parse(Experiment.Arg(args, "--rows") ?? "50000000");
        int users = int.Parse(Experiment.Arg(args, "--users") ?? "1000000");
        int items = int.Parse(Experiment.Arg(args, "--items") ?? "200000");
        int runs = int.Parse(Experiment.Arg(args, "--runs") ?? "3");
        var table = BenchData.PowerLaw(rows, users, items);
        var seconds = new List<double>();
        int nnz = 0;
        for (int r = 0; r < runs; r++)
        {
            var sw = Stopwatch.StartNew();
            var m = InteractionMatrix.Build(table);
            nnz = m.ItemUsers.Nnz;
            seconds.Add(sw.Elapsed.TotalSeconds);
            m = null;
            GC.Collect();
        }
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            rows,
            nnz,
            runs,
            median_seconds = Math.Round(Experiment.Median(seconds), 3),
            seconds = seconds.Select(s => Math.Round(s, 3)),
            cores = Environment.ProcessorCount,
        }));
        return 0;
    }
}
