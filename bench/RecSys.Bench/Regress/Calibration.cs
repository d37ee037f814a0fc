using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using RecSys.Bench.Experiments;

namespace RecSys.Bench.Regress;

/// <summary>
/// <c>regress --calibrate [--repeats 10] [--slowdowns 0,0.05,0.1,0.2] [--rounds 8] [--no-a-a] [--out DIR]</c>: how
/// often a regression run cries wolf and what it catches, on this machine. The working tree's bench is
/// built twice, as is and with the deliberate slowdown compiled in (<c>-p:RecSysSlowdown=true</c>, which
/// makes every (1/f)-th call of the tiled scan kernel do its work twice under RECSYS_SLOWDOWN=f). The
/// scan kernel's suite then runs A/A (the same build both sides) and A against the slowed build at each
/// f, each comparison repeated: the false-alarm rate and the share of slowdowns caught. f = 0 runs the
/// slowed build with the switch off: what the switch itself costs.
/// <para><c>regress --self-test</c>: the statistics on synthetic samples with known shifts, then one
/// tiny A/A of the running build against itself; exits 1 if either is wrong (for <c>./test.sh</c>).</para>
/// </summary>
public static class Calibration
{
    private static RegressRun Kernel => RegressRun.Suite("calibration", "ann", quick: true, "*ScanKernelBenchmarks.Tiled*");

    public static int Calibrate(string[] args)
    {
        string outDir = Path.GetFullPath(Experiment.Arg(args, "--out") ?? "regress-out");
        int repeats = Experiment.PositiveIntArg(args, "--repeats", 10);
        int rounds = Experiment.PositiveIntArg(args, "--rounds", RegressCommand.DefaultRounds);
        double[] slowdowns = [.. (Experiment.Arg(args, "--slowdowns") ?? "0,0.05,0.1,0.2").Split(',').Select(t => double.Parse(t, CultureInfo.InvariantCulture))];
        Directory.CreateDirectory(outDir);
        string root = Builds.RepositoryRoot();
        string normal = Builds.Build(root, Path.Combine(outDir, "candidate"));
        string slowed = Builds.Build(root, Path.Combine(outDir, "slowed"), "RecSysSlowdown=true");
        // Put the working tree's own build back as it was (the slowed one shares its intermediate files).
        Builds.Build(root, Path.Combine(outDir, "candidate"));
        var report = new JsonObject { ["run"] = "*ScanKernelBenchmarks.Tiled*", ["rounds"] = rounds, ["repeats"] = repeats };
        if (!args.Contains("--no-a-a")) report["a_a"] = Repeat(normal, normal, null, repeats, rounds, outDir);
        var caught = new JsonArray();
        foreach (double f in slowdowns)
        {
            var result = Repeat(normal, slowed, new Dictionary<string, string> { ["RECSYS_SLOWDOWN"] = f.ToString(CultureInfo.InvariantCulture) }, repeats, rounds, outDir);
            result["slowdown"] = f;
            caught.Add(result);
            Console.Error.WriteLine($"regress calibrate: slowdown {f}: {result["regressions"]} of {repeats} caught");
        }
        report["slowed"] = caught;
        string json = report.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        File.WriteAllText(Path.Combine(outDir, "calibration.json"), json);
        Console.WriteLine(json);
        return 0;
    }

    private static JsonObject Repeat(string a, string b, IReadOnlyDictionary<string, string>? environment, int repeats, int rounds, string outDir)
    {
        int regressions = 0, improvements = 0;
        var ratios = new JsonArray();
        var kept = new JsonArray();
        for (int r = 0; r < repeats; r++)
        {
            var samples = RegressCommand.Measure([a, b], [Kernel], rounds, outDir, environment: environment);
            foreach (var c in RegressCommand.Compare(samples[0], samples[1]))
            {
                if (c.Verdict == Verdict.Regression) regressions++;
                if (c.Verdict == Verdict.Improvement) improvements++;
                ratios.Add(Math.Round(c.Ratio, 4));
                // Every sample, in schedule order (round by round), so other tests can be tried on the same data later.
                kept.Add(new JsonObject { ["a"] = new JsonArray([.. c.A.Select(v => (JsonNode)v)]), ["b"] = new JsonArray([.. c.B.Select(v => (JsonNode)v)]) });
            }
        }
        return new JsonObject { ["regressions"] = regressions, ["improvements"] = improvements, ["ratios"] = ratios, ["samples"] = kept };
    }

    public static int SelfTest()
    {
        var failures = new List<string>();
        void Expect(Verdict expected, Comparison c, string what)
        {
            if (c.Verdict != expected) failures.Add($"{what}: expected {expected}, got {c.Verdict} (ratio {c.Ratio:F3}, p {c.P})");
        }
        // Eight runs with 2 % log-normal noise around 100 ns, seeded: the statistics alone.
        var rng = new RecSys.Engine.Data.SplitMix(7);
        double[] Noisy(double scale) => [.. Enumerable.Range(0, 8).Select(_ => scale * Math.Exp(0.02 * rng.NextGaussian()))];
        var time = MetricSpec.Time("synthetic");
        Expect(Verdict.Same, Comparison.Of(time, Noisy(100), Noisy(100)), "A/A");
        Expect(Verdict.Regression, Comparison.Of(time, Noisy(100), Noisy(110)), "10 % slower");
        Expect(Verdict.Same, Comparison.Of(time, Noisy(100), Noisy(103)), "3 % slower (under the 5 % threshold)");
        Expect(Verdict.Improvement, Comparison.Of(time, Noisy(100), Noisy(90)), "10 % faster");
        var quality = MetricSpec.Quality("synthetic ndcg");
        Expect(Verdict.Regression, Comparison.Of(quality, [0.3000, 0.3000], [0.2940, 0.2940]), "NDCG 0.006 lower");
        Expect(Verdict.Same, Comparison.Of(quality, [0.3000, 0.3000], [0.2960, 0.2960]), "NDCG 0.004 lower");
        // One tiny A/A through real processes: the running build against itself.
        string self = AppContext.BaseDirectory;
        string work = Path.Combine(Path.GetTempPath(), $"recsys-regress-{Environment.ProcessId}");
        try
        {
            var samples = RegressCommand.Measure([self, self], [Kernel], 5, work);
            var comparisons = RegressCommand.Compare(samples[0], samples[1]);
            if (comparisons.Count == 0) failures.Add("A/A through processes: no metric was read");
            foreach (var c in comparisons.Where(c => c.Verdict == Verdict.Regression)) failures.Add($"A/A through processes: {c.Metric.Name} reported as a regression (ratio {c.Ratio:F3})");
            Console.WriteLine(RegressReport.Markdown(comparisons));
        }
        finally
        {
            if (Directory.Exists(work)) Directory.Delete(work, recursive: true);
        }
        foreach (string f in failures) Console.Error.WriteLine($"regress self-test: {f}");
        Console.WriteLine(failures.Count == 0 ? "regress self-test: passed" : $"regress self-test: {failures.Count} failed");
        return failures.Count == 0 ? 0 : 1;
    }
}
