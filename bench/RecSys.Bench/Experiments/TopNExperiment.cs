using System.Diagnostics;
using System.Text.Json.Nodes;
using RecSys.Engine.Ann;
using RecSys.Engine.Model;
using RecSys.Engine.Recommend;

namespace RecSys.Bench.Experiments;

/// <summary>
/// <c>topn --model model.npz [--index-dir dir] [--users N] [--k 20] [--budget B]</c>: the /ml retrieval
/// per user as the server runs it (heard tracks excluded, retrievers chosen as the server chooses
/// them), one thread, one user at a time: latency percentiles against exact search, and recall.
/// </summary>
public static class TopNExperiment
{
    public static int Run(string[] args)
    {
        var model = ModelFile.Load(Experiment.Arg(args, "--model") ?? throw new ArgumentException("--model is required"));
        if (model.UserItems is null) throw new ArgumentException("the model has no user_items (heard tracks); train it with ./recsys train");
        int k = int.Parse(Experiment.Arg(args, "--k") ?? "20");
        int users = Math.Min(model.UserCount, int.Parse(Experiment.Arg(args, "--users") ?? "5000"));
        var options = new RetrievalOptions();
        if (Experiment.Arg(args, "--budget") is { } b) options = options with { NormScanBudget = int.Parse(b) };

        var sw = Stopwatch.StartNew();
        var retrievers = ItemRetrievers.Create(model, options, Experiment.Arg(args, "--index-dir"));
        double setup = sw.Elapsed.TotalSeconds;
        var served = new Recommender(model, retrievers: retrievers);
        var exact = new Recommender(model, retrievers: ItemRetrievers.Exact(model));
        int[] sample = Enumerable.Range(0, users).Select(i => (int)((long)i * model.UserCount / users)).ToArray();

        var truth = new ScoredIndex[users][];
        var exactMicros = Time(sample, u => exact.RecommendUser(u, k), truth);
        var found = new ScoredIndex[users][];
        var micros = Time(sample, u => served.RecommendUser(u, k), found);
        double hits = 0, total = 0;
        for (int i = 0; i < users; i++)
        {
            float threshold = truth[i].Length < k ? float.NegativeInfinity : truth[i][^1].Score;
            total += truth[i].Length;
            hits += found[i].Count(r => r.Score >= threshold - 1e-5f * Math.Max(1f, Math.Abs(threshold)));
        }
        var report = new JsonObject
        {
            ["model"] = Experiment.Arg(args, "--model"),
            ["items"] = model.ItemCount,
            ["users"] = users,
            ["k"] = k,
            ["retrieval"] = new JsonArray(retrievers.Notes.Select(n => (JsonNode)n).ToArray()),
            ["setup_seconds"] = Math.Round(setup, 3),
            [$"recall@{k}"] = Math.Round(total == 0 ? 1 : hits / total, 4),
            ["served"] = Percentiles(micros),
            ["exact"] = Percentiles(exactMicros),
        };
        Console.WriteLine(report.ToJsonString());
        return 0;
    }

    private static double[] Time(int[] users, Func<int, ScoredIndex[]> run, ScoredIndex[][] results)
    {
        Experiment.WarmUp(() =>
        {
            foreach (int u in users) run(u);
        });
        var micros = new double[users.Length];
        for (int i = 0; i < users.Length; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            results[i] = run(users[i]);
            micros[i] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
        }
        return micros;
    }

    private static JsonObject Percentiles(double[] micros)
    {
        var s = micros.Order().ToArray();
        double At(double p) => Math.Round(s[Math.Min(s.Length - 1, (int)(s.Length * p))], 1);
        return new JsonObject { ["qps"] = Math.Round(s.Length / (s.Sum() / 1e6)), ["p50_us"] = At(0.5), ["p90_us"] = At(0.9), ["p99_us"] = At(0.99), ["max_us"] = At(1.0) };
    }
}
