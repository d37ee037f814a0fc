using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using RecSys.Engine.Als;
using RecSys.Engine.Compute.Gpu;
using RecSys.Engine.Data;
using RecSys.Engine.Evaluation;
using RecSys.Engine.Sparse;
using RecSys.Engine.Training;
using RecSys.Server.Contracts;

namespace RecSys.Server.Cli;

/// <summary><c>recsys eval</c>: train on a split, report ranking metrics of ALS and of the popularity baseline.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var cmd = new Command("eval", "Evaluate ALS against a popularity baseline on a held-out split");
        var input = new InputOptions();
        input.Input.Required = false;
        var train = new Option<string?>("--train") { Description = "Training file (with --test, instead of splitting --input)" };
        var test = new Option<string?>("--test") { Description = "Test file" };
        var split = SplitOptions.Create();
        var k = new Option<int>("--k") { Description = "Cut-off K of the metrics", DefaultValueFactory = _ => 10 };
        var als = new AlsCliOptions();
        var json = CliOptions.Json();
        var tune = new TuneCliOptions();
        input.AddTo(cmd);
        als.AddTo(cmd);
        tune.AddTo(cmd);
        split.AddTo(cmd);
        foreach (var o in new Option[] { train, test, k, json }) cmd.Options.Add(o);
        cmd.SetAction(async (r, ct) =>
        {
            var options = als.Read(r);
            int cutoff = r.GetValue(k);
            if (cutoff < 1) throw new CliException("--k must be >= 1");
            Split data;
            if (r.GetValue(train) is { } trainPath)
            {
                string testPath = r.GetValue(test) ?? throw new CliException("--train needs --test");
                var format = DelimitedLayout.ParseFormat(r.GetValue(input.Format)!);
                bool skip = r.GetValue(input.SkipBadRows);
                data = PairedFiles(new DelimitedFileReader(trainPath, format, skip).Read(ct), new DelimitedFileReader(testPath, format, skip).Read(ct));
            }
            else
            {
                if (r.GetValue(input.Input) is null) throw new CliException("give --input (to split) or --train and --test");
                var loaded = await input.LoadAsync(r, ct);
                data = split.Apply(r, InteractionMatrix.Build(loaded.Table).UserItems);
            }
            // Tuned on the training part only: the test part is never seen before the final score.
            (options, var tuned) = tune.Apply(r, data.Train, options, cutoff, r.GetValue(json), ct);
            var result = Evaluate(data, options, cutoff, quiet: r.GetValue(json), ct, als.ReadDevice(r));
            if (tuned is not null) result["tuned"] = tuned;
            Console.WriteLine(r.GetValue(json) ? result.ToJsonString() : result.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        });
        return cmd;
    }

    /// <summary>Trains on the split's training part and evaluates ALS and popularity on its test part.</summary>
    public static JsonObject Evaluate(Split split, AlsOptions options, int k, bool quiet, CancellationToken ct, TrainingDevice device = TrainingDevice.Cpu)
    {
        string deviceUsed = "";
        var factors = TrainingProgress.Run(options.Iterations, quiet, report => ModelBuilder.Train(split.Train, options, device, out deviceUsed, report, ct));
        var alsMetrics = Evaluator.Evaluate(Evaluator.Als(factors.UserFactors, factors.ItemFactors, factors.Factors), split.Train, split.Test, k, options.Threads);
        var popularity = Evaluator.Evaluate(Evaluator.Popularity(split.Train), split.Train, split.Test, k, options.Threads);
        return new JsonObject
        {
            ["als"] = MetricsJson.ToJson(alsMetrics),
            ["popularity"] = MetricsJson.ToJson(popularity),
            ["seconds_per_iteration"] = Math.Round(factors.SecondsPerIteration, 5),
            ["device"] = deviceUsed,
            ["users_evaluated"] = alsMetrics.Users,
            ["train_interactions"] = split.Train.Nnz,
            ["test_interactions"] = split.Test.Nnz,
        };
    }

    /// <summary>A train and a test file over one id space; items or users only in the test file cannot be hit but still count.</summary>
    private static Split PairedFiles(InteractionData train, InteractionData test)
    {
        var all = new InteractionTable(train.Table.Count + test.Table.Count);
        for (int i = 0; i < train.Table.Count; i++) all.Add(train.Table.Users[i], train.Table.Items[i], train.Table.Weights[i]);
        for (int i = 0; i < test.Table.Count; i++) all.Add(test.Table.Users[i], test.Table.Items[i], test.Table.Weights[i]);
        var users = IdMap.FromColumn(all.Users);
        var items = IdMap.FromColumn(all.Items);
        CsrMatrix Map(InteractionTable t) => CsrBuilder.FromCoo(users.Count, items.Count, users.MapColumn(t.Users), items.MapColumn(t.Items), t.Weights);
        return new Split(Map(train.Table), Map(test.Table));
    }
}

/// <summary>The split options shared by eval and tune.</summary>
internal sealed class SplitOptions
{
    public Option<double> TestFraction { get; } = new("--test-fraction") { Description = "Fraction held out", DefaultValueFactory = _ => 0.2 };
    public Option<string> Kind { get; } = new("--split") { Description = "random (per interaction), user (per-user stratified) or leave-k-out", DefaultValueFactory = _ => "random" };
    public Option<int> LeaveK { get; } = new("--leave-k") { Description = "k of leave-k-out", DefaultValueFactory = _ => 1 };
    public Option<ulong> SplitSeed { get; } = new("--split-seed") { Description = "Seed of the split (default: --seed)" };

    public static SplitOptions Create() => new();

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { TestFraction, Kind, LeaveK, SplitSeed }) command.Options.Add(o);
    }

    public Split Apply(ParseResult r, CsrMatrix m)
    {
        ulong seed = r.GetResult(SplitSeed) is null ? r.GetValue<ulong>("--seed") : r.GetValue(SplitSeed);
        double fraction = r.GetValue(TestFraction);
        if (!(fraction > 0 && fraction < 1)) throw new CliException("--test-fraction must be in (0, 1)");
        return r.GetValue(Kind) switch
        {
            "random" => Splits.Random(m, fraction, seed),
            "user" => Splits.PerUser(m, fraction, seed),
            "leave-k-out" => Splits.LeaveKOut(m, Math.Max(1, r.GetValue(LeaveK)), seed),
            var s => throw new CliException($"--split must be random, user or leave-k-out, not '{s}'"),
        };
    }
}
