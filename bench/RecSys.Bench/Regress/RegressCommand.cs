using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using RecSys.Bench.Experiments;

namespace RecSys.Bench.Regress;

/// <summary>
/// <c>regress --baseline REF [--area als|ann|server|data|quality|all] [--suite NAME] [--quick] [--rounds N]
/// [--json] [--out DIR] [--quality-input FILE]</c>: whether the working tree made RecSys slower, less
/// accurate or less exact than REF. Both builds of the bench project are made (REF in a git worktree of
/// its own), then every chosen run goes A, B, A, B, … each in a process of its own, so both builds share
/// the machine's minutes; each metric is then compared (<see cref="Comparison"/>). Writes DIR/regress.json
/// and DIR/regress.md, prints the table (and with --json the JSON last), and exits 1 when any metric
/// regressed. <c>--baseline-dir DIR</c> and <c>--candidate-dir DIR</c> take bench builds already made.
/// </summary>
public static class RegressCommand
{
    public const int DefaultRounds = 12;

    /// <summary>
    /// Exit code 0: no regression; 1: a regression; 2: no verdict (bad arguments, or a build, a run or a
    /// server failed, or nothing could be compared). Every failure is caught here, so the fixtures'
    /// servers are always stopped (an unhandled exception would skip the finally that stops them).
    /// </summary>
    public static int Run(string[] args)
    {
        try
        {
            return Decide(args);
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
    }

    private static int Decide(string[] args)
    {
        if (args.Contains("--self-test")) return Calibration.SelfTest();
        if (args.Contains("--calibrate")) return Calibration.Calibrate(args);
        string outDir = Path.GetFullPath(Experiment.Arg(args, "--out") ?? "regress-out");
        bool quick = args.Contains("--quick"), json = args.Contains("--json");
        int rounds = Experiment.PositiveIntArg(args, "--rounds", DefaultRounds);
        if (rounds < 4) throw new ArgumentException("--rounds must be at least 4 (with fewer, no difference can be significant)");
        var runs = ChooseRuns(args, quick);
        string? baselineRef = Experiment.Arg(args, "--baseline");
        string? baselineDir = Builds.Existing(Experiment.Arg(args, "--baseline-dir"), "--baseline-dir");
        string? candidateDir = Builds.Existing(Experiment.Arg(args, "--candidate-dir"), "--candidate-dir");
        if (baselineRef is null && baselineDir is null) throw new ArgumentException("--baseline REF (a git ref) or --baseline-dir DIR is required");
        Directory.CreateDirectory(outDir);

        var clock = Stopwatch.StartNew();
        Console.Error.WriteLine($"regress: {runs.Count} runs ({string.Join(", ", runs.Select(r => r.Name))}), {rounds} rounds");
        string baseline = baselineDir ?? Builds.BuildRef(baselineRef!, outDir);
        string candidate = candidateDir ?? Builds.Build(Builds.RepositoryRoot(), Path.Combine(outDir, "candidate"));
        Console.Error.WriteLine($"regress: builds ready after {clock.Elapsed.TotalSeconds:F0} s");
        var samples = Measure([baseline, candidate], runs, rounds, outDir, log: Console.Error.WriteLine);
        var comparisons = Compare(samples[0], samples[1]);
        var unmatched = new Unmatched(OnlyIn(samples[0], samples[1]), OnlyIn(samples[1], samples[0]));
        var report = RegressReport.Json(comparisons, unmatched, runs, rounds, clock.Elapsed.TotalSeconds, baselineRef ?? baseline);
        var relaxed = new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        File.WriteAllText(Path.Combine(outDir, "regress.json"), report.ToJsonString(new JsonSerializerOptions(relaxed) { WriteIndented = true }));
        string table = RegressReport.Markdown(comparisons, unmatched);
        File.WriteAllText(Path.Combine(outDir, "regress.md"), table);
        // With --json, standard output carries the JSON alone, so a reader can take it whole.
        (json ? Console.Error : Console.Out).WriteLine(table);
        Console.Error.WriteLine($"regress: {clock.Elapsed.TotalMinutes:F1} minutes in all; {outDir}/regress.md and regress.json");
        if (json) Console.WriteLine(report.ToJsonString(relaxed));
        if (comparisons.Count == 0)
        {
            Console.Error.WriteLine("error: no metric was measured by both builds, so nothing was compared");
            return 2;
        }
        return RegressReport.Overall(comparisons) == Verdict.Regression ? 1 : 0;
    }

    private static List<RegressRun> ChooseRuns(string[] args, bool quick)
    {
        string area = Experiment.Arg(args, "--area") ?? "all";
        string? suite = Experiment.Arg(args, "--suite");
        string? qualityInput = Experiment.Arg(args, "--quality-input") ?? DefaultQualityInput();
        if (qualityInput is not null && !File.Exists(qualityInput)) throw new ArgumentException($"--quality-input: no file {qualityInput}");
        var known = RunCatalog.All(qualityInput);
        if (area != "all" && !RunCatalog.Areas.Contains(area)) throw new ArgumentException($"--area: unknown area '{area}' (known: {string.Join(", ", RunCatalog.Areas)}, all)");
        if (suite is not null && known.All(r => r.Name != suite)) throw new ArgumentException($"--suite: unknown run '{suite}' (known: {string.Join(", ", known.Select(r => r.Name))})");
        // A run named with --suite is run whether or not it is in the quick set.
        var runs = known.Where(r => (area == "all" || r.Area == area) && (suite is null ? !quick || r.Quick : r.Name == suite)).ToList();
        if (runs.Count == 0)
        {
            throw new ArgumentException($"nothing to run in area '{area}'{(quick ? " with --quick" : "")}" +
                (area == "quality" && qualityInput is null ? " (the quality run needs ../shared/data or --quality-input)" : ""));
        }
        return runs;
    }

    /// <summary>The order runs go in: every round, each build in turn (A, B, A, B, …).</summary>
    public static IEnumerable<(int Round, int Side)> Schedule(int rounds, int sides = 2)
    {
        for (int round = 0; round < rounds; round++)
        {
            for (int side = 0; side < sides; side++) yield return (round, side);
        }
    }

    /// <summary>
    /// Samples per build (index as given), per metric, one per round. A run's fixture (a server, a trained
    /// model) is made for each build before the first round and disposed after the last.
    /// </summary>
    public static List<Dictionary<MetricSpec, List<double>>> Measure(IReadOnlyList<string> builds, IReadOnlyList<RegressRun> runs, int rounds, string workDir,
        Action<string>? log = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var samples = builds.Select(_ => new Dictionary<MetricSpec, List<double>>()).ToList();
        var fixtures = new Dictionary<(string Run, int Side), IDisposable>();
        try
        {
            foreach (var run in runs.Where(r => r.Fixture is not null))
            {
                for (int side = 0; side < builds.Count; side++)
                {
                    log?.Invoke($"regress: starting {run.Name}'s fixture for {builds[side]}");
                    fixtures[(run.Name, side)] = run.Fixture!(builds[side], Path.Combine(workDir, "fixtures", $"{run.Name}-{side}"));
                }
            }
            foreach (var (round, side) in Schedule(rounds, builds.Count))
            {
                foreach (var run in runs.Where(r => round < (r.MaxRounds ?? int.MaxValue)))
                {
                    string artifacts = Path.Combine(workDir, "runs", $"{run.Name}-{round}-{side}");
                    if (Directory.Exists(artifacts)) Directory.Delete(artifacts, recursive: true);
                    Directory.CreateDirectory(artifacts);
                    var context = new RunContext(builds[side], artifacts, environment, fixtures.GetValueOrDefault((run.Name, side)));
                    foreach (var (metric, value) in run.Sample(context))
                    {
                        if (!samples[side].TryGetValue(metric, out var list)) samples[side][metric] = list = [];
                        list.Add(value);
                    }
                    Directory.Delete(artifacts, recursive: true);
                }
                if (side == builds.Count - 1) log?.Invoke($"regress: round {round + 1}/{rounds} done");
            }
        }
        finally
        {
            foreach (var fixture in fixtures.Values)
            {
                try
                {
                    fixture.Dispose();
                }
                catch (Exception e)
                {
                    // The others must still be stopped, and the error that ended the run stays the one reported.
                    log?.Invoke($"regress: stopping a fixture failed: {e.Message}");
                }
            }
        }
        return samples;
    }

    /// <summary>Metrics <paramref name="side"/> measured and <paramref name="other"/> did not (a benchmark added or removed).</summary>
    public static IReadOnlyList<string> OnlyIn(Dictionary<MetricSpec, List<double>> side, Dictionary<MetricSpec, List<double>> other) =>
        [.. side.Keys.Where(m => !other.ContainsKey(m)).Select(m => m.Name).Order(StringComparer.Ordinal)];

    public static List<Comparison> Compare(Dictionary<MetricSpec, List<double>> a, Dictionary<MetricSpec, List<double>> b) =>
        [.. a.Keys.Where(b.ContainsKey).OrderBy(m => m.Name, StringComparer.Ordinal).Select(m => Comparison.Of(m, a[m], b[m]))];

    private static string? DefaultQualityInput()
    {
        string path = Path.Combine(Builds.RepositoryRoot(), "..", "shared", "data", "ml-latest-small", "ratings.csv");
        return File.Exists(path) ? Path.GetFullPath(path) : null;
    }
}
