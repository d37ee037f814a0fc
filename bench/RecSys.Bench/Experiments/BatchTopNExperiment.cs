using System.Diagnostics;
using System.Text.Json.Nodes;
using RecSys.Engine.Ann;
using RecSys.Engine.Model;
using RecSys.Engine.Recommend;

namespace RecSys.Bench.Experiments;

/// <summary>
/// <c>batch-topn --model model.npz [--k 20] [--rounds 5] [--threads N]</c> (all cores by default): every user's top-k, heard
/// tracks excluded, by the batch path (four users a step, <see cref="BatchRecommender"/>) and by the
/// one-user-at-a-time path it replaced (<see cref="Recommender.RecommendBatch"/>), in alternating
/// rounds in one process: median seconds of each, their ratio, the share of items scanned after
/// pruning, FLOP per user and the lists that differ (near-ties decided by rounding).
/// </summary>
public static class BatchTopNExperiment
{
    public static int Run(string[] args)
    {
        var model = ModelFile.Load(Experiment.Arg(args, "--model") ?? throw new ArgumentException("--model is required"));
        int k = Experiment.PositiveIntArg(args, "--k", 20);
        int rounds = Experiment.PositiveIntArg(args, "--rounds", 5);
        int threads = Experiment.Arg(args, "--threads") is null ? 0 : Experiment.PositiveIntArg(args, "--threads", 1);
        int[] users = Enumerable.Range(0, model.UserCount).ToArray();
        var batch = new BatchRecommender(model);
        var single = new Recommender(model);
        ScoredIndex[][] fromBatch = [], fromSingle = [];
        Experiment.WarmUp(() => batch.Recommend(users.AsSpan(0, Math.Min(2000, users.Length)), k, threads: threads));
        Experiment.WarmUp(() => single.RecommendBatch(users.AsSpan(0, Math.Min(2000, users.Length)), k, threads: threads));
        var batchSeconds = new List<double>();
        var singleSeconds = new List<double>();
        for (int r = 0; r < rounds; r++)
        {
            var sw = Stopwatch.StartNew();
            fromSingle = single.RecommendBatch(users, k, threads: threads);
            singleSeconds.Add(sw.Elapsed.TotalSeconds);
            sw.Restart();
            fromBatch = batch.Recommend(users, k, threads: threads);
            batchSeconds.Add(sw.Elapsed.TotalSeconds);
        }
        int differ = 0;
        for (int u = 0; u < users.Length; u++)
        {
            if (!fromBatch[u].Select(x => x.Index).SequenceEqual(fromSingle[u].Select(x => x.Index))) differ++;
        }
        double scannedShare = (double)batch.ScoredItems / ((long)users.Length * model.ItemCount);
        double batchMedian = Median(batchSeconds), singleMedian = Median(singleSeconds);
        var report = new JsonObject
        {
            ["model"] = Experiment.Arg(args, "--model"),
            ["users"] = users.Length,
            ["items"] = model.ItemCount,
            ["factors"] = model.Factors,
            ["k"] = k,
            ["threads"] = threads > 0 ? threads : Environment.ProcessorCount,
            ["rounds"] = rounds,
            ["batch_median_s"] = Math.Round(batchMedian, 4),
            ["one_at_a_time_median_s"] = Math.Round(singleMedian, 4),
            ["speedup"] = Math.Round(singleMedian / batchMedian, 3),
            ["scanned_share"] = Math.Round(scannedShare, 4),
            ["batch_gflop_per_s"] = Math.Round(2.0 * batch.ScoredItems * model.Factors / batchMedian / 1e9, 2),
            ["lists_that_differ"] = differ,
        };
        Console.WriteLine(report.ToJsonString());
        return 0;
    }

    private static double Median(List<double> values)
    {
        var s = values.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }
}
