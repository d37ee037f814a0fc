using System.Diagnostics;
using System.Text.Json.Nodes;
using ILGPU.Runtime;
using RecSys.Engine.Ann;
using RecSys.Engine.Compute.Gpu;
using RecSys.Engine.Data;
using RecSys.Engine.Model;
using RecSys.Engine.Recommend;

namespace RecSys.Bench.Experiments;

/// <summary>
/// The GPU check's batch top-N part: every user's top 20 on the device (heard tracks excluded) at the
/// lastfm-360k shape and at 1M users × 200k tracks, 64 factors, and CPU–GPU agreement of the lists.
/// </summary>
internal static class GpuTopNCheck
{
    public static readonly Dictionary<string, (int Users, int Items)> Shapes = new()
    {
        ["lastfm360k"] = (358_868, 160_113),
        ["1m"] = (1_000_000, 200_000),
    };

    /// <summary>Random factors with item norms falling like a popular catalog's, 20 heard tracks a user.</summary>
    public static RecModel Model(int users, int items, int factors, ulong seed = 5)
    {
        var heard = AlsExperiment.SyntheticMatrix(users, items, users * 20, seed);
        var rng = new SplitMix(seed);
        var userFactors = new float[(long)users * factors];
        for (long i = 0; i < userFactors.Length; i++) userFactors[i] = (float)rng.NextGaussian();
        var itemFactors = new float[(long)items * factors];
        for (int i = 0; i < items; i++)
        {
            double scale = 1.0 / Math.Sqrt(1 + i);
            for (int f = 0; f < factors; f++) itemFactors[(long)i * factors + f] = (float)(scale * rng.NextGaussian());
        }
        return new RecModel(factors, userFactors, itemFactors, [.. Enumerable.Range(1, users).Select(u => (long)u)],
            [.. Enumerable.Range(1, items).Select(i => (long)i)], userItems: heard);
    }

    public static JsonObject Time(Accelerator accelerator, string shape, int k)
    {
        var (users, items) = Shapes[shape];
        var generate = Stopwatch.StartNew();
        var model = Model(users, items, 64);
        double generated = generate.Elapsed.TotalSeconds;
        using var ranker = new IlgpuBatchRecommender(accelerator, model);
        int[] all = Enumerable.Range(0, users).ToArray();
        ranker.RankAll(all[..Math.Min(4096, users)], k, true, (_, _) => { }); // warm-up: kernel compilation
        var runs = new List<double>();
        for (int run = 0; run < 3; run++)
        {
            long lists = 0;
            var sw = Stopwatch.StartNew();
            ranker.RankAll(all, k, true, (_, l) => lists += l.Length);
            runs.Add(sw.Elapsed.TotalSeconds);
            if (lists != users) throw new InvalidOperationException($"{lists} lists for {users} users");
        }
        return new JsonObject
        {
            ["shape"] = shape,
            ["users"] = users,
            ["items"] = items,
            ["factors"] = 64,
            ["k"] = k,
            ["median_seconds"] = Math.Round(runs.Order().ElementAt(1), 3),
            ["seconds"] = new JsonArray(runs.Select(s => (JsonNode)Math.Round(s, 3)).ToArray()),
            ["device_mb_estimated"] = Math.Round(IlgpuBatchRecommender.EstimateBytes(model, users, k) / 1e6, 1),
            ["generate_seconds"] = Math.Round(generated, 1),
        };
    }

    /// <summary>CPU and device lists for the same users: identical lists, and the largest score difference.</summary>
    public static JsonObject Agreement(Accelerator accelerator, int k)
    {
        var model = Model(20_000, 50_000, 64, seed: 9);
        int[] users = Enumerable.Range(0, 2_000).Select(i => i * 10).ToArray();
        var cpu = new BatchRecommender(model).Recommend(users, k);
        using var ranker = new IlgpuBatchRecommender(accelerator, model);
        var device = new ScoredIndex[users.Length][];
        ranker.RankAll(users, k, true, (start, lists) => lists.CopyTo(device, start));
        int identical = 0;
        double maxDifference = 0;
        for (int u = 0; u < users.Length; u++)
        {
            if (cpu[u].Select(x => x.Index).SequenceEqual(device[u].Select(x => x.Index))) identical++;
            for (int r = 0; r < Math.Min(cpu[u].Length, device[u].Length); r++) maxDifference = Math.Max(maxDifference, Math.Abs(cpu[u][r].Score - device[u][r].Score));
        }
        return new JsonObject
        {
            ["users"] = users.Length,
            ["items"] = model.ItemCount,
            ["k"] = k,
            ["identical_lists"] = identical,
            ["max_score_difference"] = maxDifference,
        };
    }
}
