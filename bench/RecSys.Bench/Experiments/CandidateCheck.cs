using System.Text.Json;
using System.Text.Json.Nodes;
using RecSys.Engine.Als;
using RecSys.Engine.Data;
using RecSys.Engine.Evaluation;
using RecSys.Engine.Sparse;
using RecSys.Engine.Training;
using RecSys.Engine.Tuning;

namespace RecSys.Bench.Experiments;

/// <summary>
/// <c>candidates --input FILE --ids 12,50 [--split random|user] [--folds 4] [--test-seeds 42,43,44,45,46]</c>:
/// why the self-tuning picked what it did. Settings are named by their place in the sweep's seeded draw
/// (<see cref="TuningSpace.Candidates"/>, the defaults are 0). Each is scored the way the search sees it
/// (validation NDCG@10 on per-listener folds carved from the seed-42 split's training part; the first
/// fold is the search's own) and the way the table judges it (test NDCG@10 on splits of each test seed).
/// Prints JSON.
/// </summary>
public static class CandidateCheck
{
    public static int Run(string[] args)
    {
        string input = Experiment.Arg(args, "--input") ?? throw new ArgumentException("--input FILE is required");
        string splitKind = Experiment.Arg(args, "--split") ?? "random";
        if (splitKind is not ("random" or "user")) throw new ArgumentException($"--split must be random or user (got '{splitKind}')");
        int[] ids = Numbers(Experiment.Arg(args, "--ids") ?? throw new ArgumentException("--ids N,N,... is required"), "--ids");
        int folds = Experiment.PositiveIntArg(args, "--folds", 4);
        int[] testSeeds = Numbers(Experiment.Arg(args, "--test-seeds") ?? "42,43,44,45,46", "--test-seeds");
        var raw = InteractionMatrix.Build(new DelimitedFileReader(input).Read().Table).UserItems;
        Split SplitOf(ulong seed) => splitKind == "random" ? Splits.Random(raw, 0.2, seed) : Splits.PerUser(raw, 0.2, seed);
        var defaults = new AlsOptions();
        var candidates = TuningSpace.Candidates(defaults, ids.Max() + 1, defaults.Seed);
        if (ids.Max() >= candidates.Count) throw new ArgumentException($"--ids: the space gives {candidates.Count} distinct settings");
        var train = SelfTuner.WithoutEmptyRowsAndColumns(SplitOf(defaults.Seed).Train);
        var tuning = new TuningOptions();
        var rows = new JsonArray();
        foreach (int id in ids)
        {
            var options = candidates[id];
            var validation = new JsonArray();
            for (int fold = 0; fold < folds; fold++)
            {
                // Fold 0 is the search's own validation split (SelfTuner's seed); the others are further seeds.
                ulong seed = fold == 0 ? defaults.Seed ^ 0x5E1F7A11 : (ulong)fold;
                var split = Splits.PerUser(train, tuning.ValidationFraction, seed);
                validation.Add(Math.Round(Ndcg(split, options, tuning.ValidationUsers, options.Seed), 4));
            }
            var test = new JsonArray();
            foreach (int seed in testSeeds) test.Add(Math.Round(Ndcg(SplitOf((ulong)seed), options, 0, 42), 4)); // as the sweep scores
            rows.Add(new JsonObject
            {
                ["id"] = id,
                ["settings"] = TunedSettings.Settings(options),
                ["validation_ndcg@10"] = validation,
                ["validation_mean"] = Math.Round(validation.Average(v => (double)v!), 4),
                ["test_ndcg@10"] = test,
                ["test_mean"] = Math.Round(test.Average(v => (double)v!), 4),
            });
        }
        var report = new JsonObject { ["input"] = Path.GetFileName(input), ["split"] = splitKind, ["candidates"] = rows };
        Console.WriteLine(report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }

    /// <summary>NDCG@10 of the settings trained on the split's training part; <paramref name="users"/> 0: every listener.</summary>
    private static double Ndcg(Split split, AlsOptions options, int users, ulong seed)
    {
        var f = ModelBuilder.Train(split.Train, options);
        return Evaluator.Evaluate(Evaluator.Als(f.UserFactors, f.ItemFactors, f.Factors), split.Train, split.Test, 10, options.Threads, users, seed).Ndcg;
    }

    private static int[] Numbers(string text, string name)
    {
        try
        {
            int[] values = [.. text.Split(',').Select(t => int.Parse(t, System.Globalization.CultureInfo.InvariantCulture))];
            if (values.Any(v => v < 0)) throw new FormatException();
            return values;
        }
        catch (FormatException)
        {
            throw new ArgumentException($"{name} must be non-negative integers separated by commas (got '{text}')");
        }
    }
}
