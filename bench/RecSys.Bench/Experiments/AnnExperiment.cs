using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using RecSys.Engine.Ann;
using RecSys.Engine.Recommend;

namespace RecSys.Bench.Experiments;

/// <summary>
/// <c>ann --items items.npy --queries queries.npy --metric ip|cosine --k 10 --ef 10,20,40,80,160 --json</c>
/// (or <c>--model model.npz</c>, or <c>--synthetic N --dims 64</c>). Recall@k against exact search and
/// one-thread, one-query-at-a-time speed per ef; <c>--compare usearch</c> runs USearch on the same
/// vectors in the same process. Options: --m, --ef-construction, --threads (build), --mode
/// transform|native, --max-queries, --save (also time saving and loading the index), and for inner
/// products --norm-scan B1,B2,…,all [--fallback-ef E]: the norm-ordered scan per budget, alone and
/// with the graph as its fallback.
/// </summary>
public static class AnnExperiment
{
    public static int Run(string[] args)
    {
        string metricName = Experiment.Arg(args, "--metric") ?? "ip";
        var metric = metricName switch
        {
            "ip" => RetrievalMetric.InnerProduct,
            "cosine" => RetrievalMetric.Cosine,
            _ => throw new ArgumentException("--metric must be ip or cosine"),
        };
        int k = int.Parse(Experiment.Arg(args, "--k") ?? "10");
        int[] efs = (Experiment.Arg(args, "--ef") ?? "10,20,40,80,160").Split(',').Select(int.Parse).ToArray();
        var mode = Experiment.Arg(args, "--mode") == "transform" ? InnerProductMode.Transform : InnerProductMode.Native;
        var options = new HnswOptions
        {
            M = int.Parse(Experiment.Arg(args, "--m") ?? "16"),
            EfConstruction = int.Parse(Experiment.Arg(args, "--ef-construction") ?? "200"),
            Threads = int.Parse(Experiment.Arg(args, "--threads") ?? "0"),
        };
        int maxQueries = int.Parse(Experiment.Arg(args, "--max-queries") ?? "2000");

        AnnData data;
        if (Experiment.Arg(args, "--model") is { } model) data = AnnData.FromModel(model, metric == RetrievalMetric.Cosine);
        else if (Experiment.Arg(args, "--synthetic") is { } n)
            data = AnnData.Synthetic(int.Parse(n), maxQueries, int.Parse(Experiment.Arg(args, "--dims") ?? "64"));
        else data = AnnData.FromNpy(
            Experiment.Arg(args, "--items") ?? throw new ArgumentException("give --items and --queries, --model, or --synthetic"),
            Experiment.Arg(args, "--queries") ?? throw new ArgumentException("--queries is required with --items"));
        data = data.Sample(maxQueries);

        var exact = new ExactRetriever(data.Items, data.Dimensions, metric);
        var truth = new int[data.QueryCount][];
        var exactTimes = Time(data, q => exact.Search(Query(data, q), k, Self(data, q)), truth);
        var scorer = new Scorer(data, metric, exact, k);

        long before = GC.GetTotalMemory(true);
        var build = Stopwatch.StartNew();
        var index = HnswRetriever.Build(data.Items, data.Dimensions, metric, options, mode);
        double buildSeconds = build.Elapsed.TotalSeconds;
        long memory = GC.GetTotalMemory(true) - before;

        var report = new JsonObject
        {
            ["source"] = data.Source,
            ["items"] = data.ItemCount,
            ["dims"] = data.Dimensions,
            ["queries"] = data.QueryCount,
            ["metric"] = metricName,
            ["mode"] = metric == RetrievalMetric.InnerProduct ? mode.ToString().ToLowerInvariant() : null,
            ["m"] = options.M,
            ["ef_construction"] = options.EfConstruction,
            ["build_threads"] = options.Threads > 0 ? options.Threads : Environment.ProcessorCount,
            ["build_seconds"] = Math.Round(buildSeconds, 3),
            ["inserts_per_second"] = Math.Round(data.ItemCount / buildSeconds),
            ["index_memory_mb"] = Math.Round(memory / 1e6, 1),
            ["exact"] = Summary(exactTimes, data.QueryCount),
        };
        var results = new JsonArray();
        foreach (int ef in efs)
        {
            var found = new int[data.QueryCount][];
            var times = Time(data, q => index.Search(Query(data, q), k, ef, Self(data, q)), found);
            var row = Summary(times, data.QueryCount);
            row.Insert(0, "ef", ef);
            row.Insert(1, $"recall@{k}", Math.Round(scorer.Recall(found), 4));
            results.Add(row);
        }
        report["results"] = results;
        if (metric == RetrievalMetric.InnerProduct && Experiment.Arg(args, "--norm-scan") is { } budgets)
        {
            report["norm_scan"] = NormScan(data, k, budgets, Experiment.Arg(args, "--fallback-ef"), index, scorer);
        }

        if (Experiment.Arg(args, "--save") is { } savePath)
        {
            var sw = Stopwatch.StartNew();
            index.Save(savePath);
            double save = sw.Elapsed.TotalSeconds;
            sw.Restart();
            HnswRetriever.Load(savePath, data.Items, data.Dimensions, metric, mode);
            report["save_seconds"] = Math.Round(save, 3);
            report["load_seconds"] = Math.Round(sw.Elapsed.TotalSeconds, 3);
            report["file_mb"] = Math.Round(new FileInfo(savePath).Length / 1e6, 1);
        }

        if (Experiment.Arg(args, "--compare") == "usearch")
        {
            report["usearch"] = USearchComparison.Run(data, metric, k, efs, options, scorer);
        }

        Console.WriteLine(args.Contains("--json") ? report.ToJsonString() : report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }

    /// <summary>
    /// The norm-ordered scan per budget ("all" = exact): alone, and with the HNSW index as fallback at
    /// ef <paramref name="fallbackEf"/> when one is given.
    /// </summary>
    private static JsonArray NormScan(AnnData data, int k, string budgets, string? fallbackEf, HnswRetriever index, Scorer scorer)
    {
        var rows = new JsonArray();
        var variants = new List<(int Budget, HnswRetriever? Fallback)>();
        foreach (string b in budgets.Split(','))
        {
            int budget = b == "all" ? int.MaxValue : int.Parse(b);
            variants.Add((budget, null));
            if (fallbackEf is not null && budget < data.ItemCount) variants.Add((budget, index));
        }
        if (fallbackEf is not null) index.EfSearch = int.Parse(fallbackEf);
        foreach (var (budget, fallback) in variants)
        {
            var scan = new NormPrunedRetriever(data.Items, data.Dimensions, budget, fallback);
            var found = new int[data.QueryCount][];
            var times = Time(data, q => scan.Search(Query(data, q), k, Self(data, q)), found);
            var row = Summary(times, data.QueryCount);
            row.Insert(0, "budget", budget == int.MaxValue ? "all" : budget.ToString(System.Globalization.CultureInfo.InvariantCulture));
            row.Insert(1, "fallback_ef", fallback is null ? null : fallback.EfSearch);
            row.Insert(2, $"recall@{k}", Math.Round(scorer.Recall(found), 4));
            row["exact_share"] = Math.Round(scan.ExactShare(data.Queries.AsSpan(0, data.QueryCount * data.Dimensions), k), 4);
            rows.Add(row);
        }
        return rows;
    }

    internal static ReadOnlySpan<float> Query(AnnData d, int q) => d.Queries.AsSpan(q * d.Dimensions, d.Dimensions);

    private static ReadOnlySpan<int> Self(AnnData d, int q)
    {
        int self = d.SelfIndex(q);
        return self < 0 ? default : new[] { self };
    }

    internal delegate ScoredIndex[] QueryRun(int q);

    /// <summary>Runs every query once, one at a time; returns per-query microseconds and fills the found ids.</summary>
    internal static double[] Time(AnnData data, QueryRun run, int[][] found)
    {
        Experiment.WarmUp(() =>
        {
            for (int q = 0; q < data.QueryCount; q++) run(q);
        });
        var micros = new double[data.QueryCount];
        for (int q = 0; q < data.QueryCount; q++)
        {
            long t0 = Stopwatch.GetTimestamp();
            var r = run(q);
            micros[q] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
            found[q] = r.Select(x => x.Index).ToArray();
        }
        return micros;
    }

    internal static JsonObject Summary(double[] micros, int queries)
    {
        var sorted = micros.Order().ToArray();
        return new JsonObject
        {
            ["qps"] = Math.Round(queries / (micros.Sum() / 1e6)),
            ["p50_us"] = Math.Round(sorted[sorted.Length / 2], 1),
            ["p99_us"] = Math.Round(sorted[Math.Min(sorted.Length - 1, (int)(sorted.Length * 0.99))], 1),
        };
    }

    /// <summary>
    /// Recall against exact search, tie-aware: a returned item counts as a hit when its exact score
    /// reaches the k-th best exact score (factors of items with one listener are often identical in
    /// direction, so "which of the tied items" is not a recall question).
    /// </summary>
    internal sealed class Scorer
    {
        private readonly AnnData _data;
        private readonly RetrievalMetric _metric;
        private readonly int _k;
        private readonly float[] _threshold;

        public Scorer(AnnData data, RetrievalMetric metric, ExactRetriever exact, int k)
        {
            _data = data;
            _metric = metric;
            _k = k;
            _threshold = new float[data.QueryCount];
            for (int q = 0; q < data.QueryCount; q++)
            {
                var best = exact.Search(Query(data, q), k, Self(data, q));
                _threshold[q] = best.Length < k ? float.NegativeInfinity : best[^1].Score;
            }
        }

        public double Recall(int[][] found)
        {
            double hits = 0, total = 0;
            for (int q = 0; q < found.Length; q++)
            {
                int expected = Math.Min(_k, _data.ItemCount - (_data.QueriesAreItems ? 1 : 0));
                total += expected;
                int self = _data.SelfIndex(q);
                foreach (int item in found[q].Take(_k).Distinct())
                {
                    if (item == self) continue;
                    float score = Score(q, item);
                    if (score >= _threshold[q] - 1e-5f * Math.Max(1f, Math.Abs(_threshold[q]))) hits++;
                }
            }
            return total == 0 ? 1 : hits / total;
        }

        private float Score(int q, int item)
        {
            var x = Query(_data, q);
            var y = _data.Items.AsSpan(item * _data.Dimensions, _data.Dimensions);
            float dot = System.Numerics.Tensors.TensorPrimitives.Dot(x, y);
            if (_metric == RetrievalMetric.InnerProduct) return dot;
            float n = System.Numerics.Tensors.TensorPrimitives.Norm(x) * System.Numerics.Tensors.TensorPrimitives.Norm(y);
            return n > 0 ? dot / n : 0f;
        }
    }
}
