using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using RecSys.Engine.Als;
using RecSys.Engine.Data;
using RecSys.Engine.Evaluation;
using RecSys.Engine.Sparse;
using RecSys.Engine.Training;
using RecSys.Engine.Tuning;
using RecSys.Server.Contracts;

namespace RecSys.Server.Cli;

/// <summary>
/// <c>recsys tune</c>: a small seeded search over factors, regularization, alpha and scaling. The test
/// split is set aside first and never looked at while searching; candidates are compared on a
/// validation split carved from the training part, and only the winner is then scored on test.
/// </summary>
internal static class TuneCommand
{
    private static readonly int[] FactorGrid = [32, 64, 128];
    private static readonly float[] RegularizationGrid = [0.01f, 0.1f, 1f, 5f, 10f, 20f, 50f];
    private static readonly float[] AlphaGrid = [1f, 2f, 5f, 10f, 20f, 40f];
    private static readonly float[] Bm25AlphaGrid = [0.005f, 0.01f, 0.02f, 0.05f, 0.1f];
    private static readonly ConfidenceScaling[] ScalingGrid = [ConfidenceScaling.Linear, ConfidenceScaling.Log, ConfidenceScaling.Binary];

    public static Command Create()
    {
        var cmd = new Command("tune", "Search training settings on a validation split and report the best");
        var input = new InputOptions();
        var als = new AlsCliOptions();
        var split = SplitOptions.Create();
        var trials = new Option<int>("--trials") { Description = "Settings to try (the defaults and the original design's are always among them)", DefaultValueFactory = _ => 24 };
        var validation = new Option<double>("--validation-fraction") { Description = "Fraction of the training part used for validation", DefaultValueFactory = _ => 0.2 };
        var k = new Option<int>("--k") { Description = "Cut-off K; candidates are ranked by NDCG@K", DefaultValueFactory = _ => 10 };
        var json = CliOptions.Json();
        input.AddTo(cmd);
        als.AddTo(cmd);
        split.AddTo(cmd);
        foreach (var o in new Option[] { trials, validation, k, json }) cmd.Options.Add(o);
        cmd.SetAction(async (r, ct) =>
        {
            var baseOptions = als.Read(r);
            int cutoff = r.GetValue(k);
            double validationFraction = r.GetValue(validation);
            if (!(validationFraction > 0 && validationFraction < 1)) throw new CliException("--validation-fraction must be in (0, 1)");
            var loaded = await input.LoadAsync(r, ct);
            var outer = split.Apply(r, InteractionMatrix.Build(loaded.Table).UserItems);
            var inner = Splits.Random(outer.Train, validationFraction, baseOptions.Seed ^ 0x7A11DA7E);
            bool quiet = r.GetValue(json);

            var results = new List<(AlsOptions Options, RankingMetrics Metrics)>();
            foreach (var candidate in Candidates(baseOptions, Math.Max(1, r.GetValue(trials))))
            {
                var factors = ModelBuilder.Train(inner.Train, candidate, cancellationToken: ct);
                var metrics = Evaluator.Evaluate(Evaluator.Als(factors.UserFactors, factors.ItemFactors, factors.Factors), inner.Train, inner.Test, cutoff, candidate.Threads);
                results.Add((candidate, metrics));
                if (!quiet) Console.Error.WriteLine($"{Describe(candidate),-60} validation ndcg@{cutoff} {metrics.Ndcg:F4}");
            }
            var best = results.MaxBy(x => x.Metrics.Ndcg);
            var final = EvalCommand.Evaluate(outer, best.Options, cutoff, quiet: true, ct);
            var report = new JsonObject
            {
                ["best"] = Settings(best.Options),
                ["validation"] = MetricsJson.ToJson(best.Metrics),
                ["test"] = final["als"]!.DeepClone(),
                ["popularity_test"] = final["popularity"]!.DeepClone(),
                ["trials"] = new JsonArray(results.OrderByDescending(x => x.Metrics.Ndcg)
                    .Select(x => (JsonNode)new JsonObject { ["settings"] = Settings(x.Options), [$"validation_ndcg@{cutoff}"] = Math.Round(x.Metrics.Ndcg, 6) })
                    .ToArray()),
            };
            Console.WriteLine(quiet ? report.ToJsonString() : report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        });
        return cmd;
    }

    /// <summary>The given settings, the original design's, then seeded random draws from the grid (no repeats).</summary>
    internal static List<AlsOptions> Candidates(AlsOptions start, int count)
    {
        var list = new List<AlsOptions> { start, start.AsOriginalDesign() };
        var rng = new SplitMix(start.Seed, 0x7E57);
        int attempts = 0;
        while (list.Count < count && attempts++ < count * 50)
        {
            // BM25 values run to hundreds, so BM25 draws alpha from a smaller range.
            bool bm25 = rng.NextInt(ScalingGrid.Length + 1) == ScalingGrid.Length;
            var c = start with
            {
                Factors = FactorGrid[rng.NextInt(FactorGrid.Length)],
                Regularization = RegularizationGrid[rng.NextInt(RegularizationGrid.Length)],
                Alpha = bm25 ? Bm25AlphaGrid[rng.NextInt(Bm25AlphaGrid.Length)] : AlphaGrid[rng.NextInt(AlphaGrid.Length)],
                Scaling = bm25 ? ConfidenceScaling.Linear : ScalingGrid[rng.NextInt(ScalingGrid.Length)],
                Bm25 = bm25,
            };
            if (!list.Contains(c)) list.Add(c);
        }
        return list.Take(count).ToList();
    }

    private static string Describe(AlsOptions o) =>
        $"factors {o.Factors} regularization {o.Regularization} alpha {o.Alpha} scaling {o.Scaling.ToString().ToLowerInvariant()}{(o.Bm25 ? " bm25" : "")}" +
        (o.RegularizationExponent != 0 ? $" reg-exponent {o.RegularizationExponent} reg-offset {o.RegularizationOffset}" : "") +
        (o.UnobservedWeight != 1 ? $" unobserved-weight {o.UnobservedWeight}" : "");

    private static JsonObject Settings(AlsOptions o)
    {
        var json = TunedSettings.Settings(o);
        json["iterations"] = o.Iterations;
        return json;
    }
}
