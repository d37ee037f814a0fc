using System.Text.Json.Nodes;

namespace RecSys.Bench.Experiments;

/// <summary>
/// <c>plot --out recall-qps.png name=result.json [name=result.json …]</c>: draws recall@k against
/// queries per second from <c>ann --json</c> outputs (and their USearch and norm-scan rows, when present).
/// </summary>
public static class PlotExperiment
{
    public static int Run(string[] args)
    {
        string output = Experiment.Arg(args, "--out") ?? "recall-qps.png";
        var plot = new ScottPlot.Plot();
        foreach (string spec in args.Where(a => a.Contains('=', StringComparison.Ordinal) && !a.StartsWith("--", StringComparison.Ordinal)))
        {
            string name = spec[..spec.IndexOf('=', StringComparison.Ordinal)];
            var report = JsonNode.Parse(File.ReadAllText(spec[(name.Length + 1)..]))!;
            Add(plot, name, report["results"]!.AsArray());
            if (report["usearch"]?["results"] is JsonArray usearch) Add(plot, name + " (USearch)", usearch);
            if (report["norm_scan"] is JsonArray scan)
            {
                var alone = scan.Where(r => r!["fallback_ef"] is null).ToArray();
                var hybrid = scan.Where(r => r!["fallback_ef"] is not null).ToArray();
                if (alone.Length > 0) Add(plot, name + " (norm scan, by budget)", new JsonArray(alone.Select(r => r!.DeepClone()).ToArray()));
                if (hybrid.Length > 0) Add(plot, name + " (norm scan + HNSW fallback)", new JsonArray(hybrid.Select(r => r!.DeepClone()).ToArray()));
            }
        }
        plot.XLabel("recall@10");
        plot.YLabel("queries per second (one thread, one query at a time)");
        plot.Axes.SetLimitsY(0, double.NaN);
        plot.ShowLegend(ScottPlot.Alignment.LowerLeft);
        plot.SavePng(output, 900, 600);
        Console.WriteLine($"wrote {output}");
        return 0;
    }

    private static void Add(ScottPlot.Plot plot, string name, JsonArray rows)
    {
        double[] recall = rows.Select(r => r!.AsObject().First(p => p.Key.StartsWith("recall@", StringComparison.Ordinal)).Value!.GetValue<double>()).ToArray();
        double[] qps = rows.Select(r => r!["qps"]!.GetValue<double>()).ToArray();
        var line = plot.Add.Scatter(recall, qps);
        line.LegendText = name;
        line.MarkerSize = 7;
    }
}
