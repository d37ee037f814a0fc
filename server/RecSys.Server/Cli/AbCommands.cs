using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using RecSys.Engine.Experiments;
using RecSys.Server.Configuration;
using RecSys.Server.Experiments;
using RecSys.Server.Hosting;

namespace RecSys.Server.Cli;

/// <summary>
/// <c>recsys ab start|stop|list|report</c>: A/B experiments in the same stores the server uses (same
/// <c>--db</c>/<c>--storage</c>/<c>--set</c> as <c>serve</c>); a running server picks up a change within
/// RecSys:Experiments:RefreshSeconds.
/// </summary>
internal static class AbCommands
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command Create()
    {
        var ab = new Command("ab", "A/B experiments: start, stop, list, report (docs/experiments.md)");
        ab.Subcommands.Add(Start());
        ab.Subcommands.Add(Stop());
        ab.Subcommands.Add(List());
        ab.Subcommands.Add(Report());
        return ab;
    }

    private sealed record Shared(Option<string?> Db, Option<string?> Storage, SettingsOption Settings, Option<bool> Json)
    {
        public static Shared Add(Command cmd)
        {
            var storage = new Option<string?>("--storage") { Description = "Storage folder (default storage/recommender), as serve's" };
            var shared = new Shared(CliOptions.Db(), storage, new SettingsOption(), CliOptions.Json());
            foreach (var o in new Option[] { shared.Db, shared.Storage, shared.Settings.Set, shared.Json }) cmd.Options.Add(o);
            return shared;
        }

        public (ExperimentStores Stores, ServerOptions Options) Open(ParseResult r)
        {
            var overrides = Settings.Overrides(r, [new("Db", r.GetValue(Db)), new("Storage", r.GetValue(Storage))]);
            ServerOptions options;
            try
            {
                options = ServerConfiguration.Bind(ServerConfiguration.Build(overrides));
            }
            catch (InvalidOperationException e)
            {
                throw new CliException(e.Message);
            }
            var stores = ExperimentStores.For(options);
            stores.Prepare();
            return (stores, options);
        }

        public void Print(ParseResult r, JsonNode json, string text)
        {
            Console.WriteLine(r.GetValue(Json) ? json.ToJsonString(Indented) : text);
        }
    }

    private static Command Start()
    {
        var cmd = new Command("start", "Start an experiment (or store a new version of one): --file DEF.json, or ID with --arm NAME=STRATEGY[@WEIGHT] per arm, the control first");
        var id = new Argument<string?>("id") { Description = "Experiment id (with --arm)", Arity = ArgumentArity.ZeroOrOne };
        var file = new Option<string?>("--file") { Description = "A JSON definition, as POST /admin/experiments takes" };
        var arms = new Option<string[]>("--arm")
        {
            Description = "NAME=STRATEGY[@WEIGHT], strategy ml, popularity, legacy or model:<version>; the first arm is the control",
            AllowMultipleArgumentsPerToken = true,
        };
        var salt = new Option<string?>("--salt") { Description = "Assignment salt (default: the id)" };
        var endpoints = new Option<string[]>("--endpoint") { Description = "Endpoint to cover (default /recommend/user/{user_id}/ml)", AllowMultipleArgumentsPerToken = true };
        var layer = new Option<string?>("--layer") { Description = "Part of the user layer, FROM-TO in percent (default 0-100)" };
        var stop = new Option<DateTimeOffset?>("--stop") { Description = "When it stops (ISO 8601 with zone)" };
        var window = new Option<double?>("--window-hours") { Description = "Attribution window (default 24)" };
        var sample = new Option<double?>("--exposure-sample") { Description = "Share of users whose exposures are logged (default 1)" };
        cmd.Arguments.Add(id);
        foreach (var o in new Option[] { file, arms, salt, endpoints, layer, stop, window, sample }) cmd.Options.Add(o);
        var shared = Shared.Add(cmd);
        cmd.SetAction(r =>
        {
            ExperimentDefinition definition;
            try
            {
                definition = r.GetValue(file) is { } path ? ExperimentJson.Parse(File.ReadAllText(path)) : FromOptions(r, id, arms, salt, endpoints, layer, stop, window, sample);
            }
            catch (FormatException e)
            {
                throw new CliException($"invalid experiment: {e.Message}");
            }
            var (stores, options) = shared.Open(r);
            ExperimentDefinition saved;
            try
            {
                saved = ExperimentService.Save(stores.Definitions, new ModelStore(options.Storage), definition, DateTime.UtcNow);
            }
            catch (ArgumentException e)
            {
                throw new CliException(e.Message);
            }
            shared.Print(r, ExperimentJson.ToJson(saved), $"experiment {saved.Id} version {saved.Version} stored in {stores.Definitions.Description}; " +
                $"a running server serves it within {options.Experiments.RefreshSeconds} s");
            return 0;
        });
        return cmd;
    }

    private static ExperimentDefinition FromOptions(ParseResult r, Argument<string?> id, Option<string[]> arms, Option<string?> salt, Option<string[]> endpoints,
        Option<string?> layer, Option<DateTimeOffset?> stop, Option<double?> window, Option<double?> sample)
    {
        string name = r.GetValue(id) ?? throw new CliException("give an experiment id and --arm per arm, or --file");
        var list = new List<ExperimentArm>();
        foreach (string arm in r.GetValue(arms) ?? [])
        {
            int eq = arm.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw new CliException($"--arm expects NAME=STRATEGY[@WEIGHT], got '{arm}'");
            string strategy = arm[(eq + 1)..];
            double weight = 1;
            int at = strategy.LastIndexOf('@');
            if (at >= 0)
            {
                if (!double.TryParse(strategy[(at + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out weight)) throw new CliException($"--arm {arm}: the weight after @ is not a number");
                strategy = strategy[..at];
            }
            list.Add(new ExperimentArm(arm[..eq], weight, strategy));
        }
        double from = 0, to = 100;
        if (r.GetValue(layer) is { } range)
        {
            var parts = range.Split('-');
            if (parts.Length != 2 || !double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out from) || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out to))
            {
                throw new CliException($"--layer expects FROM-TO in percent (e.g. 0-50), got '{range}'");
            }
        }
        var definition = new ExperimentDefinition
        {
            Id = name,
            Salt = r.GetValue(salt) ?? name,
            Arms = list,
            Endpoints = r.GetValue(endpoints) is { Length: > 0 } e ? e : [ExperimentDefinition.PersonalEndpoint],
            LayerFrom = from,
            LayerTo = to,
            StopUtc = r.GetValue(stop)?.UtcDateTime,
            AttributionWindowHours = r.GetValue(window) ?? 24,
            ExposureSample = r.GetValue(sample) ?? 1,
        };
        var problems = definition.Validate();
        if (problems.Count > 0) throw new CliException($"invalid experiment: {string.Join("; ", problems)}");
        return definition;
    }

    private static Command Stop()
    {
        var cmd = new Command("stop", "Stop an experiment now (its users get the default answer; the report stays)");
        var id = new Argument<string>("id");
        cmd.Arguments.Add(id);
        var shared = Shared.Add(cmd);
        cmd.SetAction(r =>
        {
            var (stores, _) = shared.Open(r);
            var stopped = ExperimentChanges.StopNow(stores.Definitions, r.GetValue(id)!, DateTime.UtcNow) ?? throw new CliException($"no experiment '{r.GetValue(id)}' in {stores.Definitions.Description}");
            shared.Print(r, ExperimentJson.ToJson(stopped), $"experiment {stopped.Id} stopped at {stopped.StopUtc:O} (version {stopped.Version})");
            return 0;
        });
        return cmd;
    }

    private static Command List()
    {
        var cmd = new Command("list", "List experiments (newest version of each) and their status");
        var shared = Shared.Add(cmd);
        cmd.SetAction(r =>
        {
            var (stores, _) = shared.Open(r);
            var now = DateTime.UtcNow;
            var unreadable = new List<string>();
            var latest = stores.Definitions.Latest(unreadable);
            foreach (string problem in unreadable) Console.Error.WriteLine($"warning: experiment {problem}");
            var json = new JsonArray([.. latest.Select(d =>
            {
                var node = ExperimentJson.ToJson(d);
                node["status"] = d.Status(now);
                return (JsonNode)node;
            })]);
            shared.Print(r, new JsonObject { ["experiments"] = json },
                latest.Count == 0 ? "no experiments" : string.Join(Environment.NewLine, latest.Select(d =>
                    $"{d.Id}\tv{d.Version}\t{d.Status(now)}\t{string.Join(" vs ", d.Arms.Select(a => $"{a.Name}={a.Strategy}@{a.Weight}"))}")));
            return 0;
        });
        return cmd;
    }

    private static Command Report()
    {
        var cmd = new Command("report", "The experiment's report: per arm users, exposures, metrics, lift with 95% interval and p-value, SRM check");
        var id = new Argument<string>("id");
        var noCuped = new Option<bool>("--no-cuped") { Description = "Report without the CUPED adjustment" };
        cmd.Arguments.Add(id);
        cmd.Options.Add(noCuped);
        var shared = Shared.Add(cmd);
        cmd.SetAction(r =>
        {
            var (stores, _) = shared.Open(r);
            var history = stores.Definitions.History(r.GetValue(id)!);
            if (history.Count == 0) throw new CliException($"no experiment '{r.GetValue(id)}' in {stores.Definitions.Description}");
            var report = ExperimentReports.Build(stores, history[^1], DateTime.UtcNow, cuped: !r.GetValue(noCuped));
            shared.Print(r, report, ReportText(report));
            return 0;
        });
        return cmd;
    }

    /// <summary>The report as a table for a terminal.</summary>
    private static string ReportText(JsonObject report)
    {
        var lines = new List<string>
        {
            $"experiment {report["experiment"]} v{report["version"]} ({report["status"]}), SRM p = {Format(report["srm_p_value"])}{((bool)report["srm_detected"]! ? "  SAMPLE RATIO MISMATCH: do not trust the lifts" : "")}",
            "arm\tusers\texposures\tmetric\tmean\tlift\t95% CI\tp",
        };
        foreach (var arm in report["arms"]!.AsArray())
        {
            foreach (var (metric, value) in arm!["metrics"]!.AsObject())
            {
                lines.Add($"{arm["name"]}\t{arm["users"]}\t{arm["exposures"]}\t{metric}\t{Format(value!["mean"])}\t{Format(value["lift"])}\t[{Format(value["ci_low"])}, {Format(value["ci_high"])}]\t{Format(value["p_value"])}");
            }
        }
        return string.Join(Environment.NewLine, lines);
    }

    private static string Format(JsonNode? value) => value is null ? "-" : value.GetValue<double>().ToString("G4", CultureInfo.InvariantCulture);
}
