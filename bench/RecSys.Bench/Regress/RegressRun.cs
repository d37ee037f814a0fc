using System.Text.Json;
using System.Text.Json.Nodes;

namespace RecSys.Bench.Regress;

/// <summary>
/// One measurement a regression run repeats on both builds, and how to read its metrics. BenchmarkDotNet
/// suites run in-process with a short fixed job and their JSON exporter (one sample per process: each
/// benchmark's fastest iteration); experiment commands print JSON; served runs drive a server of each build.
/// </summary>
public sealed record RegressRun(string Name, string Area, bool Quick, Func<RunContext, Dictionary<MetricSpec, double>> Sample)
{
    /// <summary>Started for each build before the first round and disposed after the last (a server under load).</summary>
    public Func<string, string, IDisposable>? Fixture { get; init; }

    /// <summary>
    /// At most this many rounds: a run whose metrics are all deterministic for a seed needs two, one to
    /// read and one to confirm that the value did not move (if it did, the comparison is statistical).
    /// </summary>
    public int? MaxRounds { get; init; }

    /// <summary>A BenchmarkDotNet suite (a --filter pattern): every benchmark's fastest iteration, in ns.</summary>
    public static RegressRun Suite(string name, string area, bool quick, string filter) => new(name, area, quick, context =>
    {
        BenchProcess.Run(context.Build, ["--filter", filter, "--inProcess", "--warmupCount", "2", "--iterationCount", "7", "--iterationTime", "50",
            "--exporters", "json", "--artifacts", context.Artifacts], context.Environment);
        return ReadBenchmarkDotNet(context.Artifacts, filter);
    });

    /// <summary>
    /// An experiment printing one JSON object; <paramref name="metrics"/> maps its fields to metrics
    /// (a dotted path; a number picks an array element: <c>results.0.qps</c>).
    /// </summary>
    public static RegressRun Experiment(string name, string area, bool quick, string[] arguments, params (string Field, MetricSpec Metric)[] metrics) =>
        new(name, area, quick, context => ReadJson(name, BenchProcess.Run(context.Build, arguments, context.Environment), metrics));

    public static Dictionary<MetricSpec, double> ReadJson(string name, string stdout, IEnumerable<(string Field, MetricSpec Metric)> metrics)
    {
        int start = stdout.IndexOf('{');
        if (start < 0) throw new InvalidDataException($"{name}: no JSON in its output");
        var json = JsonNode.Parse(stdout[start..]) ?? throw new InvalidDataException($"{name}: no JSON in its output");
        return metrics.ToDictionary(m => m.Metric, m => Field(json, m.Field) ?? throw new InvalidDataException($"{name}: no '{m.Field}' in its JSON"));
    }

    private static double? Field(JsonNode json, string path)
    {
        JsonNode? node = json;
        foreach (string part in path.Split('.'))
        {
            node = node is JsonArray array && int.TryParse(part, out int i) ? (i < array.Count ? array[i] : null) : node?[part];
        }
        return node?.GetValue<double>();
    }

    private static Dictionary<MetricSpec, double> ReadBenchmarkDotNet(string artifacts, string filter)
    {
        var metrics = new Dictionary<MetricSpec, double>();
        string results = Path.Combine(artifacts, "results");
        var files = Directory.Exists(results) ? Directory.GetFiles(results, "*-report-full-compressed.json") : [];
        if (files.Length == 0)
        {
            throw new InvalidDataException($"no BenchmarkDotNet JSON report under {results}: no benchmark of this build matches {filter} " +
                "(a suite the baseline does not have yet must be left out with --area or --suite)");
        }
        foreach (string file in files)
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            foreach (var b in doc.RootElement.GetProperty("Benchmarks").EnumerateArray())
            {
                string parameters = b.GetProperty("Parameters").GetString() ?? "";
                string name = $"{b.GetProperty("Type").GetString()}.{b.GetProperty("Method").GetString()}{(parameters.Length > 0 ? $"({parameters})" : "")}";
                if (b.GetProperty("Statistics").ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{name}: no statistics (the benchmark failed)");
                // The fastest of the process's iterations: the machine's other work only ever adds time, and a
                // burst of it that slows some iterations leaves the fastest alone (the median moves with it).
                metrics[MetricSpec.Time(name)] = b.GetProperty("Statistics").GetProperty("Min").GetDouble();
            }
        }
        return metrics;
    }
}
