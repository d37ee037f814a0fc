using System.Text.Json;
using System.Text.Json.Nodes;

namespace RecSys.Bench.Regress;

/// <summary>
/// One measurement a regression run repeats on both builds: a bench-project command line and how to read
/// its metrics from what it printed or wrote. BenchmarkDotNet suites run in-process with a short fixed
/// job and their JSON exporter (one sample per process: each benchmark's median); experiment commands
/// print JSON.
/// </summary>
public sealed record RegressRun(string Name, string Area, bool Quick, Func<string, string[]> Arguments, Func<string, string, Dictionary<MetricSpec, double>> Read)
{
    /// <summary>A BenchmarkDotNet suite (a --filter pattern): every benchmark's median time, in ns.</summary>
    public static RegressRun Suite(string name, string area, bool quick, string filter) => new(name, area, quick,
        artifacts => ["--filter", filter, "--inProcess", "--warmupCount", "2", "--iterationCount", "7", "--iterationTime", "100",
            "--exporters", "json", "--artifacts", artifacts],
        (_, artifacts) => ReadBenchmarkDotNet(artifacts));

    /// <summary>An experiment printing one JSON object; <paramref name="metrics"/> maps its fields to metrics.</summary>
    public static RegressRun Experiment(string name, string area, bool quick, string[] arguments, params (string Field, MetricSpec Metric)[] metrics) =>
        new(name, area, quick, _ => arguments, (stdout, _) =>
        {
            var json = JsonNode.Parse(stdout[stdout.IndexOf('{')..]) ?? throw new InvalidDataException($"{name}: no JSON in its output");
            return metrics.ToDictionary(m => m.Metric, m => Field(json, m.Field) ?? throw new InvalidDataException($"{name}: no '{m.Field}' in its JSON"));
        });

    private static double? Field(JsonNode json, string path)
    {
        JsonNode? node = json;
        foreach (string part in path.Split('.')) node = node?[part];
        return node?.GetValue<double>();
    }

    private static Dictionary<MetricSpec, double> ReadBenchmarkDotNet(string artifacts)
    {
        var metrics = new Dictionary<MetricSpec, double>();
        string results = Path.Combine(artifacts, "results");
        var files = Directory.Exists(results) ? Directory.GetFiles(results, "*-report-full-compressed.json") : [];
        if (files.Length == 0) throw new InvalidDataException($"no BenchmarkDotNet JSON report under {results}");
        foreach (string file in files)
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            foreach (var b in doc.RootElement.GetProperty("Benchmarks").EnumerateArray())
            {
                string parameters = b.GetProperty("Parameters").GetString() ?? "";
                string name = $"{b.GetProperty("Type").GetString()}.{b.GetProperty("Method").GetString()}{(parameters.Length > 0 ? $"({parameters})" : "")}";
                if (b.GetProperty("Statistics").ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{name}: no statistics (the benchmark failed)");
                metrics[MetricSpec.Time(name)] = b.GetProperty("Statistics").GetProperty("Median").GetDouble();
            }
        }
        return metrics;
    }

    /// <summary>Everything <c>B regress</c> knows how to measure, by area; <see cref="Quick"/> marks the day-to-day set.</summary>
    public static IReadOnlyList<RegressRun> All(string? qualityInput) =>
    [
        Suite("als-kernels", "als", quick: true, "*AlsKernelBenchmarks*"),
        Experiment("als-iteration", "als", quick: true, ["als", "--users", "20000", "--items", "8000", "--nnz", "500000", "--iterations", "4"],
            ("median_seconds_per_iteration", MetricSpec.Time("als: s/iteration, 20k × 8k × 500k, 64 factors", "s"))),
        Suite("ann", "ann", quick: false, "*AnnBenchmarks*"),
        Suite("scan-kernels", "ann", quick: true, "*ScanKernelBenchmarks*"),
        Suite("block-kernel", "ann", quick: true, "*BlockKernelBenchmarks*"),
        Suite("batch-top-n", "ann", quick: false, "*BatchTopNBenchmarks*"),
        Suite("server-handlers", "server", quick: true, "*ServerHandlerBenchmarks*"),
        Suite("response-json", "server", quick: false, "*ResponseJsonBenchmarks*"),
        Suite("parsing", "data", quick: true, "*ParsingBenchmarks*"),
        Suite("sparse", "data", quick: false, "*SparseBenchmarks*"),
        Suite("model-file", "data", quick: false, "*ModelFileBenchmarks*"),
        .. qualityInput is null ? Array.Empty<RegressRun>() :
        [
            Experiment("quality", "quality", quick: true, ["sweep", "--input", qualityInput, "--split", "random", "--settings", "3", "--no-tune"],
                ("defaults_tune_off.ndcg@10", MetricSpec.Quality("quality: NDCG@10, defaults")),
                ("original_design.ndcg@10", MetricSpec.Quality("quality: NDCG@10, original design")),
                ("sweep_best.ndcg@10", MetricSpec.Quality("quality: NDCG@10, best of 3 settings"))),
        ],
    ];
}
