using System.Text.Json;
using System.Text.Json.Nodes;
using RecSys.Bench.Experiments;

namespace RecSys.Bench.Soak;

/// <summary>
/// <c>soak --minutes N [--url http://127.0.0.1:8000] [--pid PID] [--admin-token T] [--ids 10000]
/// [--connections 4] [--events] [--reload-seconds 60] [--train-seconds 300] [--db-stop CMD --db-start CMD]
/// [--outage-seconds 600] [--outage-length 20] [--sample-seconds 10]</c>: a long run against a running
/// server (<see cref="SoakRun"/>). Prints JSON: requests and failures per endpoint, statuses, latency,
/// the faults injected with the server's answers, and memory: RSS and managed heap sampled, their
/// change after the warm-up (the first fifth of the run) as a least-squares slope in MB per hour.
/// Exit 1 when any request failed.
/// </summary>
public static class SoakExperiment
{
    public static int Run(string[] args)
    {
        var options = Parse(args);
        var run = new SoakRun(options);
        Console.Error.WriteLine($"soak: {options.Duration.TotalMinutes} min against {options.Url}");
        run.RunAsync().GetAwaiter().GetResult();
        Console.WriteLine(Report(options, run).ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        return run.Failed == 0 ? 0 : 1;
    }

    private static SoakOptions Parse(string[] args)
    {
        string url = Experiment.Arg(args, "--url") ?? "http://127.0.0.1:8000";
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp) throw new ArgumentException($"--url must be an http:// URL (got '{url}')");
        double minutes = Experiment.NumberArg(args, "--minutes", double.NaN);
        if (!(minutes > 0 && minutes <= 24 * 60)) throw new ArgumentException("--minutes is required: a number of minutes up to 1440");
        string? stop = Experiment.Arg(args, "--db-stop"), start = Experiment.Arg(args, "--db-start");
        if ((stop is null) != (start is null)) throw new ArgumentException("--db-stop and --db-start go together");
        int? pid = Experiment.Arg(args, "--pid") is null ? null : Experiment.PositiveIntArg(args, "--pid", 0);
        return new SoakOptions(
            uri,
            TimeSpan.FromMinutes(minutes),
            pid,
            Experiment.Arg(args, "--admin-token"),
            Experiment.PositiveIntArg(args, "--ids", 10_000),
            Experiment.PositiveIntArg(args, "--connections", 4),
            args.Contains("--events"),
            TimeSpan.FromSeconds(Experiment.PositiveIntArg(args, "--reload-seconds", 60)),
            TimeSpan.FromSeconds(Experiment.PositiveIntArg(args, "--train-seconds", 300)),
            stop,
            start,
            TimeSpan.FromSeconds(Experiment.PositiveIntArg(args, "--outage-seconds", 600)),
            TimeSpan.FromSeconds(Experiment.PositiveIntArg(args, "--outage-length", 20)),
            TimeSpan.FromSeconds(Experiment.PositiveIntArg(args, "--sample-seconds", 10)));
    }

    private static JsonObject Report(SoakOptions options, SoakRun run)
    {
        var samples = run.Samples.OrderBy(s => s.Minutes).ToList();
        double warm = options.Duration.TotalMinutes / 5;
        var after = samples.Where(s => s.Minutes >= warm).ToList();
        var latency = run.Latency;
        return new JsonObject
        {
            ["url"] = options.Url.ToString(),
            ["minutes"] = options.Duration.TotalMinutes,
            ["connections"] = options.Connections,
            ["requests"] = run.Requests,
            ["requests_per_second"] = Math.Round(run.Requests / options.Duration.TotalSeconds),
            ["failed"] = run.Failed,
            ["events_refused_while_database_down"] = run.RefusedDuringOutage,
            ["endpoints"] = new JsonObject(run.Endpoints.OrderBy(e => e.Key).Select(e => KeyValuePair.Create(e.Key, (JsonNode?)new JsonObject { ["ok"] = e.Value.Ok, ["failed"] = e.Value.Failed }))),
            ["statuses"] = new JsonObject(run.Statuses.OrderBy(s => s.Key).Select(s => KeyValuePair.Create(s.Key, (JsonNode?)s.Value))),
            ["latency_us"] = new JsonObject { ["p50"] = latency.Percentile(50), ["p99"] = latency.Percentile(99), ["p99.9"] = latency.Percentile(99.9), ["max"] = latency.Max },
            ["failures"] = new JsonArray([.. run.Failures.Select(f => (JsonNode?)f)]),
            ["faults"] = new JsonArray([.. run.Faults.Select(f => (JsonNode?)f)]),
            ["memory_after_warmup"] = new JsonObject
            {
                ["from_minute"] = Math.Round(warm, 1),
                ["rss_mb"] = Range(after.Select(s => s.RssMb)),
                ["rss_slope_mb_per_hour"] = Slope(after, s => s.RssMb),
                ["heap_mb"] = Range(after.Select(s => s.HeapMb)),
                ["heap_slope_mb_per_hour"] = Slope(after, s => s.HeapMb),
                ["gen2_collections"] = after.Count > 0 ? after[^1].Gen2Collections - after[0].Gen2Collections : 0,
            },
            ["samples"] = new JsonArray([.. samples.Select(s => (JsonNode?)new JsonObject
            {
                ["minute"] = s.Minutes, ["rss_mb"] = Finite(s.RssMb), ["heap_mb"] = Finite(s.HeapMb), ["gen2"] = s.Gen2Collections, ["requests"] = s.Requests, ["failed"] = s.Failed,
            })]),
        };
    }

    private static JsonObject Range(IEnumerable<double> values)
    {
        var finite = values.Where(double.IsFinite).ToList();
        return finite.Count == 0
            ? new JsonObject()
            : new JsonObject { ["first"] = finite[0], ["last"] = finite[^1], ["min"] = finite.Min(), ["max"] = finite.Max() };
    }

    /// <summary>Least-squares slope of a sampled value over time, per hour; null without two readings.</summary>
    private static double? Slope(List<SoakSample> samples, Func<SoakSample, double> value)
    {
        var points = samples.Where(s => double.IsFinite(value(s))).Select(s => (X: s.Minutes / 60, Y: value(s))).ToList();
        if (points.Count < 2) return null;
        double mx = points.Average(p => p.X), my = points.Average(p => p.Y);
        double sxx = points.Sum(p => (p.X - mx) * (p.X - mx));
        return sxx == 0 ? null : Math.Round(points.Sum(p => (p.X - mx) * (p.Y - my)) / sxx, 1);
    }

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;
}
