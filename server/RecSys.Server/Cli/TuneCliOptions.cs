using System.CommandLine;
using System.Text.Json.Nodes;
using RecSys.Engine.Als;
using RecSys.Engine.Sparse;
using RecSys.Engine.Tuning;

namespace RecSys.Server.Cli;

/// <summary><c>--tune off|auto [--tune-budget SECONDS]</c> of train and eval: self-tuning before the final training.</summary>
internal sealed class TuneCliOptions
{
    public Option<string> Tune { get; } = new("--tune")
    {
        Description = "auto: search the settings on a validation split of the training data first (successive halving), then train with the winner; off: train as given",
        DefaultValueFactory = _ => "off",
    };

    public Option<double?> Budget { get; } = new("--tune-budget") { Description = "Seconds the search may take (default: 32 trainings of the given settings, estimated from the first)" };

    public void AddTo(Command command)
    {
        command.Options.Add(Tune);
        command.Options.Add(Budget);
    }

    /// <summary>
    /// The settings to train with: <paramref name="start"/> with --tune off, the search's winner with
    /// --tune auto (searched on <paramref name="rawTrain"/> only), and the JSON that reports it (null when off).
    /// </summary>
    public (AlsOptions Options, JsonObject? Tuned) Apply(ParseResult r, CsrMatrix rawTrain, AlsOptions start, int k, bool quiet, CancellationToken ct)
    {
        string mode = r.GetValue(Tune)!.Trim().ToLowerInvariant();
        double? budget = r.GetValue(Budget);
        if (mode != "off" && mode != "auto") throw new CliException($"--tune: '{r.GetValue(Tune)}' is not off or auto");
        if (mode == "off")
        {
            if (budget is not null) throw new CliException("--tune-budget applies to --tune auto only");
            return (start, null);
        }
        if (budget is { } b && !(b > 0 && double.IsFinite(b))) throw new CliException($"--tune-budget must be a number of seconds > 0 (got {b})");
        var result = SelfTuner.Tune(rawTrain, start, new TuningOptions { BudgetSeconds = budget, K = k }, quiet ? null : Console.Error.WriteLine, ct);
        if (!quiet)
        {
            Console.Error.WriteLine($"tuned in {result.Seconds:F1} s of {result.BudgetSeconds:F1}{(result.BudgetReached ? " (budget reached)" : "")}: " +
                $"validation ndcg@{k} {result.ValidationNdcg:F4}{(result.Changed(start) ? "" : " (the given settings won)")}");
        }
        return (result.Best, TunedSettings.ToJson(result, k));
    }
}
