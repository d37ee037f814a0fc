using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using RecSys.Bench.Experiments;

namespace RecSys.Bench.Regress;

/// <summary>
/// <c>regress --baseline REF [--area als|ann|server|data|quality|all] [--suite NAME] [--quick] [--rounds N]
/// [--out DIR] [--quality-input FILE]</c>: whether the working tree made RecSys slower, less accurate or
/// less exact than REF. Both builds of the bench project are made (REF in a git worktree of its own),
/// then every chosen run goes A, B, A, B, … each in a process of its own, so both builds share the
/// machine's minutes; each metric is then compared (<see cref="Comparison"/>). Writes DIR/regress.json
/// and DIR/regress.md, prints the table, and exits 1 when any metric regressed.
/// <c>--baseline-dir DIR</c> and <c>--candidate-dir DIR</c> take bench builds already made instead.
/// </summary>
public static class RegressCommand
{
    public static int Run(string[] args)
    {
        if (args.Contains("--self-test")) return Calibration.SelfTest();
        if (args.Contains("--calibrate")) return Calibration.Calibrate(args);
        string outDir = Path.GetFullPath(Experiment.Arg(args, "--out") ?? "regress-out");
        bool quick = args.Contains("--quick");
        int rounds = Experiment.PositiveIntArg(args, "--rounds", quick ? 5 : 8);
        if (rounds < 3) throw new ArgumentException("--rounds must be at least 3 (with fewer, no difference can be significant)");
        string area = Experiment.Arg(args, "--area") ?? "all";
        string? suite = Experiment.Arg(args, "--suite");
        string? qualityInput = Experiment.Arg(args, "--quality-input") ?? DefaultQualityInput();
        var known = RegressRun.All(qualityInput);
        if (area != "all" && known.All(r => r.Area != area)) throw new ArgumentException($"--area: unknown area '{area}' (known: {string.Join(", ", known.Select(r => r.Area).Distinct())}, all)");
        if (suite is not null && known.All(r => r.Name != suite)) throw new ArgumentException($"--suite: unknown run '{suite}' (known: {string.Join(", ", known.Select(r => r.Name))})");
        var runs = known.Where(r => (area == "all" || r.Area == area) && (suite is null || r.Name == suite) && (!quick || r.Quick)).ToList();
        if (runs.Count == 0) throw new ArgumentException("nothing to run: --quick leaves none of the chosen runs");
        Directory.CreateDirectory(outDir);

        string baseline = Experiment.Arg(args, "--baseline-dir") ?? BuildRef(Experiment.Arg(args, "--baseline")
            ?? throw new ArgumentException("--baseline REF (a git ref) or --baseline-dir DIR is required"), outDir);
        string candidate = Experiment.Arg(args, "--candidate-dir") ?? Build(RepositoryRoot(), Path.Combine(outDir, "candidate"));
        var clock = Stopwatch.StartNew();
        var samples = Measure([baseline, candidate], runs, rounds, outDir, log: Console.Error.WriteLine);
        var comparisons = Compare(samples[0], samples[1]);
        var report = Report(comparisons, runs, rounds, clock.Elapsed.TotalSeconds, Experiment.Arg(args, "--baseline") ?? baseline);
        File.WriteAllText(Path.Combine(outDir, "regress.json"), report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        string table = Markdown(comparisons);
        File.WriteAllText(Path.Combine(outDir, "regress.md"), table);
        Console.WriteLine(table);
        return comparisons.Any(c => c.Verdict == Verdict.Regression) ? 1 : 0;
    }

    /// <summary>The order runs go in: every round, each build in turn (A, B, A, B, …).</summary>
    public static IEnumerable<(int Round, int Side)> Schedule(int rounds, int sides = 2)
    {
        for (int round = 0; round < rounds; round++)
        {
            for (int side = 0; side < sides; side++) yield return (round, side);
        }
    }

    /// <summary>Samples per build (index as given), per metric, one per round.</summary>
    public static List<Dictionary<MetricSpec, List<double>>> Measure(IReadOnlyList<string> builds, IReadOnlyList<RegressRun> runs, int rounds, string workDir,
        Action<string>? log = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var samples = builds.Select(_ => new Dictionary<MetricSpec, List<double>>()).ToList();
        foreach (var (round, side) in Schedule(rounds, builds.Count))
        {
            foreach (var run in runs)
            {
                string artifacts = Path.Combine(workDir, "runs", $"{run.Name}-{round}-{side}");
                if (Directory.Exists(artifacts)) Directory.Delete(artifacts, recursive: true);
                string stdout = Exec(builds[side], run.Arguments(artifacts), environment);
                foreach (var (metric, value) in run.Read(stdout, artifacts))
                {
                    if (!samples[side].TryGetValue(metric, out var list)) samples[side][metric] = list = [];
                    list.Add(value);
                }
                Directory.Delete(artifacts, recursive: true);
            }
            if (side == builds.Count - 1) log?.Invoke($"regress: round {round + 1}/{rounds} done");
        }
        return samples;
    }

    public static List<Comparison> Compare(Dictionary<MetricSpec, List<double>> a, Dictionary<MetricSpec, List<double>> b) =>
        [.. a.Keys.Where(b.ContainsKey).OrderBy(m => m.Name, StringComparer.Ordinal).Select(m => Comparison.Of(m, a[m], b[m]))];

    public static string Markdown(IReadOnlyList<Comparison> comparisons)
    {
        var md = new StringBuilder();
        md.AppendLine("| metric | A (median) | B (median) | B/A | 95% interval | p | verdict |");
        md.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var c in comparisons.OrderBy(c => c.Verdict == Verdict.Same).ThenBy(c => c.Metric.Name, StringComparer.Ordinal))
        {
            string unit = c.Metric.Unit.Length > 0 ? " " + c.Metric.Unit : "";
            md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {c.Metric.Name} | {c.MedianA:G5}{unit} | {c.MedianB:G5}{unit} | {c.Ratio:F3} | {c.RatioLow:F3}–{c.RatioHigh:F3} | {(c.P is { } p ? p.ToString("F4", CultureInfo.InvariantCulture) : "exact")} | **{c.Verdict.ToString().ToLowerInvariant()}** |"));
        }
        int regressions = comparisons.Count(c => c.Verdict == Verdict.Regression), improvements = comparisons.Count(c => c.Verdict == Verdict.Improvement);
        md.AppendLine().AppendLine($"{comparisons.Count} metrics: {regressions} regressions, {improvements} improvements.");
        return md.ToString();
    }

    private static JsonObject Report(IReadOnlyList<Comparison> comparisons, IReadOnlyList<RegressRun> runs, int rounds, double seconds, string baseline) => new()
    {
        ["baseline"] = baseline,
        ["runs"] = new JsonArray([.. runs.Select(r => (JsonNode)r.Name)]),
        ["rounds"] = rounds,
        ["seconds"] = Math.Round(seconds, 1),
        ["regressions"] = comparisons.Count(c => c.Verdict == Verdict.Regression),
        ["improvements"] = comparisons.Count(c => c.Verdict == Verdict.Improvement),
        ["metrics"] = new JsonArray([.. comparisons.Select(c => (JsonNode)new JsonObject
        {
            ["name"] = c.Metric.Name,
            ["unit"] = c.Metric.Unit,
            ["better"] = c.Metric.Better.ToString().ToLowerInvariant(),
            ["threshold"] = c.Metric.Threshold,
            ["relative"] = c.Metric.Relative,
            ["a"] = new JsonArray([.. c.A.Select(v => (JsonNode)v)]),
            ["b"] = new JsonArray([.. c.B.Select(v => (JsonNode)v)]),
            ["median_a"] = c.MedianA,
            ["median_b"] = c.MedianB,
            ["ratio"] = Math.Round(c.Ratio, 4),
            ["ratio_low"] = Math.Round(c.RatioLow, 4),
            ["ratio_high"] = Math.Round(c.RatioHigh, 4),
            ["p"] = c.P,
            ["verdict"] = c.Verdict.ToString().ToLowerInvariant(),
        })]),
    };

    private static string? DefaultQualityInput()
    {
        string path = Path.Combine(RepositoryRoot(), "..", "shared", "data", "ml-latest-small", "ratings.csv");
        return File.Exists(path) ? Path.GetFullPath(path) : null;
    }

    /// <summary>The folder holding RecSys.sln, above the running build or else above the current directory.</summary>
    internal static string RepositoryRoot()
    {
        foreach (string start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "RecSys.sln"))) return dir.FullName;
            }
        }
        throw new InvalidOperationException("regress: run it from inside the repository (no RecSys.sln above here)");
    }

    /// <summary>REF checked out in a worktree of its own under DIR and built there; the worktree is removed after.</summary>
    private static string BuildRef(string reference, string outDir)
    {
        string root = RepositoryRoot();
        string tree = Path.Combine(outDir, "baseline-src");
        if (Directory.Exists(tree)) Git(root, "worktree", "remove", "--force", tree);
        Git(root, "worktree", "add", "--detach", tree, reference);
        try
        {
            return Build(tree, Path.Combine(outDir, "baseline"));
        }
        finally
        {
            Git(root, "worktree", "remove", "--force", tree);
        }
    }

    /// <summary>The bench project of <paramref name="tree"/> built in Release into <paramref name="output"/>.</summary>
    public static string Build(string tree, string output, params string[] properties)
    {
        var arguments = new List<string> { "build", Path.Combine(tree, "bench", "RecSys.Bench"), "-c", "Release", "-o", output, "-v", "q", "-clp:ErrorsOnly", "-nologo" };
        arguments.AddRange(properties.Select(p => "-p:" + p));
        var (code, stdout, stderr) = Process("dotnet", arguments, tree, null);
        if (code != 0) throw new InvalidOperationException($"regress: building {tree} failed:\n{stdout}{stderr}");
        return output;
    }

    private static void Git(string root, params string[] arguments)
    {
        var (code, stdout, stderr) = Process("git", arguments, root, null);
        if (code != 0) throw new InvalidOperationException($"regress: git {string.Join(' ', arguments)} failed: {(stdout + stderr).Trim()}");
    }

    private static string Exec(string build, string[] arguments, IReadOnlyDictionary<string, string>? environment)
    {
        var (code, stdout, stderr) = Process("dotnet", [Path.Combine(build, "RecSys.Bench.dll"), .. arguments], build, environment);
        string text = stdout + stderr;
        if (code != 0) throw new InvalidOperationException($"regress: {string.Join(' ', arguments)} in {build} exited {code}:\n{text[^Math.Min(text.Length, 2000)..]}");
        return stdout;
    }

    private static (int Code, string Stdout, string Stderr) Process(string file, IEnumerable<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string>? environment)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        foreach (string a in arguments) start.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) start.Environment[k] = v;
        using var process = System.Diagnostics.Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout, stderr.Result);
    }
}
