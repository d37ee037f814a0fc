using System.Diagnostics;
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
/// <c>sweep --input FILE [--split random|user] [--settings 100] [--seed 42] [--k 10] [--no-tune]</c>: the reference
/// the self-tuning is judged against. Every one of N settings from the tuning's own space (the defaults
/// first, then seeded draws) trains on the split's training part and is scored on its test part: the
/// best of them is what an exhaustive search with hindsight (looking at the test part) reaches. Also
/// scores popularity, the original design's settings, the defaults and <c>--tune auto</c>, each once on
/// the same split (<c>--no-tune</c> leaves <c>--tune auto</c> out: a regression run's deterministic rows). Prints JSON.
/// </summary>
public static class QualitySweep
{
    public static int Run(string[] args)
    {
        Console.WriteLine(Measure(args).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }

    /// <summary>The table's rows for one set and split (the arguments of <see cref="Run"/>).</summary>
    public static JsonObject Measure(string[] args)
    {
        string input = Experiment.Arg(args, "--input") ?? throw new ArgumentException("--input FILE is required");
        string splitKind = Experiment.Arg(args, "--split") ?? "random";
        int settings = Experiment.PositiveIntArg(args, "--settings", 100);
        int k = Experiment.PositiveIntArg(args, "--k", 10);
        ulong seed = (ulong)Experiment.PositiveIntArg(args, "--seed", 42);
        var raw = InteractionMatrix.Build(new DelimitedFileReader(input).Read().Table).UserItems;
        var split = splitKind switch
        {
            "random" => Splits.Random(raw, 0.2, seed),
            "user" => Splits.PerUser(raw, 0.2, seed),
            _ => throw new ArgumentException($"--split must be random or user (got '{splitKind}')"),
        };
        var defaults = new AlsOptions();
        var original = defaults.AsOriginalDesign();

        var clock = Stopwatch.StartNew();
        var sweep = new List<(AlsOptions Options, RankingMetrics Metrics)>();
        foreach (var candidate in TuningSpace.Candidates(defaults, settings, seed))
        {
            sweep.Add((candidate, Score(split, candidate, k)));
        }
        double sweepSeconds = clock.Elapsed.TotalSeconds;
        var best = sweep.MaxBy(s => s.Metrics.Ndcg);
        var report = new JsonObject
        {
            ["input"] = Path.GetFileName(input),
            ["split"] = splitKind,
            ["seed"] = seed,
            ["popularity"] = Metrics(Evaluator.Evaluate(Evaluator.Popularity(split.Train), split.Train, split.Test, k)),
            ["original_design"] = Metrics(Score(split, original, k)),
            ["defaults_tune_off"] = Metrics(sweep[0].Metrics),
            ["sweep_settings"] = sweep.Count,
            ["sweep_seconds"] = Math.Round(sweepSeconds, 1),
            ["sweep_best"] = Metrics(best.Metrics),
            ["sweep_best_settings"] = TunedSettings.Settings(best.Options),
        };
        if (args.Contains("--no-tune")) return report;
        clock.Restart();
        var tuned = SelfTuner.Tune(split.Train, defaults, new TuningOptions { K = k });
        var tunedMetrics = Score(split, tuned.Best, k);
        report["tune_auto"] = Metrics(tunedMetrics);
        report["tune_auto_seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1);
        report["tune_auto_budget_seconds"] = Math.Round(tuned.BudgetSeconds, 1);
        report["tune_auto_trainings"] = tuned.Trials.Count;
        report["tune_auto_settings"] = TunedSettings.ToJson(tuned, k);
        report["tune_auto_of_sweep_best"] = Math.Round(tunedMetrics.Ndcg / best.Metrics.Ndcg, 4);
        return report;
    }

    private static RankingMetrics Score(Split split, AlsOptions options, int k)
    {
        var f = ModelBuilder.Train(split.Train, options);
        return Evaluator.Evaluate(Evaluator.Als(f.UserFactors, f.ItemFactors, f.Factors), split.Train, split.Test, k);
    }

    private static JsonObject Metrics(RankingMetrics m) => new()
    {
        [$"ndcg@{m.K}"] = Math.Round(m.Ndcg, 4),
        [$"precision@{m.K}"] = Math.Round(m.Precision, 4),
        [$"recall@{m.K}"] = Math.Round(m.Recall, 4),
        [$"map@{m.K}"] = Math.Round(m.Map, 4),
        [$"coverage@{m.K}"] = m.Beyond is { } b ? Math.Round(b.Coverage, 4) : null,
    };
}
