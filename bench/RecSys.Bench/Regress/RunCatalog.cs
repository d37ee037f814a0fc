using RecSys.Bench.Load;

namespace RecSys.Bench.Regress;

/// <summary>
/// Everything <c>B regress</c> knows how to measure, by area; <see cref="RegressRun.Quick"/> marks the
/// day-to-day set (chosen to finish both builds' 12 rounds in under 10 minutes here; docs/benchmarks.md).
/// </summary>
public static class RunCatalog
{
    public static readonly string[] Areas = ["als", "ann", "server", "data", "quality"];

    public static IReadOnlyList<RegressRun> All(string? qualityInput) =>
    [
        RegressRun.Suite("als-kernels", "als", quick: false, "*AlsKernelBenchmarks*"),
        RegressRun.Suite("als-training", "als", quick: false, "*AlsTrainingBenchmarks*"),
        RegressRun.Experiment("als-iteration", "als", quick: true, ["als", "--users", "100000", "--items", "20000", "--nnz", "3000000", "--iterations", "8"],
            ("median_seconds_per_iteration", MetricSpec.Time("als: s/iteration, 100k × 20k × 3M, 64 factors", "s"))),
        RegressRun.Experiment("ann-recall", "ann", quick: true,
            ["ann", "--synthetic", "20000", "--dims", "64", "--max-queries", "2000", "--k", "10", "--ef", "20,80", "--threads", "1", "--json"],
            ("results.0.recall@10", MetricSpec.Quality("ann: HNSW recall@10 at ef 20, 20k × 64")),
            ("results.1.recall@10", MetricSpec.Quality("ann: HNSW recall@10 at ef 80, 20k × 64")),
            ("results.0.qps", MetricSpec.Rate("ann: HNSW queries/s at ef 20, one thread", "q/s")),
            ("results.1.qps", MetricSpec.Rate("ann: HNSW queries/s at ef 80, one thread", "q/s")),
            ("build_seconds", MetricSpec.Time("ann: HNSW build, 20k × 64, one thread", "s"))),
        RegressRun.Suite("ann", "ann", quick: false, "*AnnBenchmarks*"),
        RegressRun.Suite("scan-kernels", "ann", quick: true, "*ScanKernelBenchmarks*"),
        RegressRun.Suite("block-kernel", "ann", quick: true, "*BlockKernelBenchmarks*"),
        RegressRun.Suite("batch-top-n", "ann", quick: false, "*BatchTopNBenchmarks*"),
        TopN(),
        Served("served-ml", "ml", quick: true),
        Served("served-similar", "similar", quick: false),
        RegressRun.Suite("server-handlers", "server", quick: false, "*ServerHandlerBenchmarks*"),
        RegressRun.Suite("response-json", "server", quick: false, "*ResponseJsonBenchmarks*"),
        RegressRun.Suite("events", "server", quick: false, "*EventBenchmarks*"),
        RegressRun.Suite("experiments", "server", quick: false, "*ExperimentBenchmarks*"),
        RegressRun.Suite("parsing", "data", quick: true, "*ParsingBenchmarks*"),
        RegressRun.Suite("sparse", "data", quick: false, "*SparseBenchmarks*"),
        RegressRun.Suite("model-file", "data", quick: false, "*ModelFileBenchmarks*"),
        RegressRun.Suite("evaluation", "quality", quick: false, "*EvaluationBenchmarks*"),
        .. qualityInput is null ? Array.Empty<RegressRun>() :
        [
            RegressRun.Experiment("quality", "quality", quick: true, ["sweep", "--input", qualityInput, "--split", "random", "--settings", "3", "--no-tune"],
                ("defaults_tune_off.ndcg@10", MetricSpec.Quality("quality: NDCG@10, defaults")),
                ("original_design.ndcg@10", MetricSpec.Quality("quality: NDCG@10, original design")),
                ("sweep_best.ndcg@10", MetricSpec.Quality("quality: NDCG@10, best of 3 settings"))) with { MaxRounds = 2 },
        ],
    ];

    /// <summary>
    /// The server's /ml answer as <c>recsys serve</c> computes it, on a model each build trains from the
    /// demo catalog: per-user latency one at a time, and recall against exact search (deterministic).
    /// </summary>
    private static RegressRun TopN() => new("top-n", "ann", Quick: false, context =>
    {
        var model = (TrainedModel)context.Fixture!;
        return RegressRun.ReadJson("top-n", BenchProcess.Run(context.Build, ["topn", "--model", model.Path, "--users", "3000", "--k", "20"], context.Environment),
        [
            ("recall@20", MetricSpec.Quality("top-n: served recall@20, demo 10k × 50k")),
            ("served.p50_us", MetricSpec.Time("top-n: served p50, one user at a time", "µs")),
            ("exact.p50_us", MetricSpec.Time("top-n: exact p50, one user at a time", "µs")),
        ]);
    })
    { Fixture = (build, folder) => TrainedModel.Train(build, folder, users: 10_000, tracks: 50_000, plays: 1_000_000) };

    /// <summary>
    /// The load driver (this process's, the same for both sides) against each build's running server, 4
    /// keep-alive connections: requests a second, latency percentiles, and the server's CPU time per
    /// request, which moves least with the machine's other work.
    /// </summary>
    private static RegressRun Served(string name, string endpoint, bool quick) => new(name, "server", quick, context =>
    {
        var server = (RunningServer)context.Fixture!;
        var options = new LoadDriver.LoadOptions(server.Url, endpoint, Ids: 10_000, Connections: 4, Duration: TimeSpan.FromSeconds(2), Warmup: TimeSpan.Zero);
        // Warm up in a run of its own, so that the CPU time read around the measured run holds its requests only.
        LoadDriver.Measure(options with { Duration = TimeSpan.FromSeconds(0.5) });
        var cpuBefore = server.CpuTime();
        var report = LoadDriver.Measure(options);
        double cpuMicros = (server.CpuTime() - cpuBefore).TotalMicroseconds;
        double requests = report.Measured.Count;
        server.EnsureRunning();
        if (report.Non2xx > 0) throw new InvalidOperationException($"{name}: {report.Non2xx} answers were not 2xx from {server.Url}");
        string path = endpoint == "ml" ? "/recommend/user/{id}/ml" : "/recommend/similar/{id}";
        return new Dictionary<MetricSpec, double>
        {
            [MetricSpec.Rate($"server {path}: requests/s, 4 connections", "req/s")] = report.RequestsPerSecond,
            [MetricSpec.Time($"server {path}: p50 latency", "µs")] = report.Measured.Percentile(50),
            [MetricSpec.Time($"server {path}: p99 latency", "µs")] = report.Measured.Percentile(99),
            [MetricSpec.Time($"server {path}: server CPU per request", "µs")] = cpuMicros / Math.Max(1, requests),
        };
    })
    { Fixture = RunningServer.Start };
}
