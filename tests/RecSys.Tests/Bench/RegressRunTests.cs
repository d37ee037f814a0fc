using System.Text.Json.Nodes;
using RecSys.Bench.Regress;

namespace RecSys.Tests.Bench;

/// <summary>
/// The regression run's orchestration with in-process runs (no builds, no child processes): the order
/// samples are taken in, fixtures made once per build and always disposed, runs capped at their rounds,
/// metrics read from JSON, and the report's interface fields.
/// </summary>
public sealed class RegressRunTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("recsys-regress-test").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private sealed class Fixture(List<string> events, string build) : IDisposable
    {
        public string Build => build;

        public void Dispose() => events.Add($"dispose {build}");
    }

    [Fact]
    public void Samples_alternate_builds_each_round_with_one_fixture_per_build_and_runs_capped_at_their_rounds()
    {
        var events = new List<string>();
        var time = MetricSpec.Time("t");
        var quality = MetricSpec.Quality("q");
        RegressRun timed = new("timed", "als", true, c =>
        {
            Assert.Equal(c.Build, ((Fixture)c.Fixture!).Build);
            Assert.True(Directory.Exists(c.Artifacts));
            events.Add($"timed {c.Build}");
            return new() { [time] = c.Build == "A" ? 100 : 110 };
        })
        {
            Fixture = (build, folder) =>
            {
                events.Add($"start {build}");
                return new Fixture(events, build);
            },
        };
        RegressRun exact = new("exact", "quality", true, c =>
        {
            events.Add($"exact {c.Build}");
            return new() { [quality] = 0.3 };
        })
        { MaxRounds = 2 };

        var samples = RegressCommand.Measure(["A", "B"], [timed, exact], 3, _work);

        Assert.Equal(
        [
            "start A", "start B",
            "timed A", "exact A", "timed B", "exact B",
            "timed A", "exact A", "timed B", "exact B",
            "timed A", "timed B",
            "dispose A", "dispose B",
        ], events);
        Assert.Equal([100.0, 100, 100], samples[0][time]);
        Assert.Equal([110.0, 110, 110], samples[1][time]);
        Assert.Equal([0.3, 0.3], samples[1][quality]);
    }

    [Fact]
    public void A_failing_run_still_disposes_every_fixture()
    {
        var disposed = new List<string>();
        RegressRun failing = new("failing", "als", true, _ => throw new InvalidDataException("no JSON"))
        {
            Fixture = (build, _) => new Fixture(disposed, build),
        };
        Assert.Throws<InvalidDataException>(() => RegressCommand.Measure(["A", "B"], [failing], 3, _work));
        Assert.Equal(["dispose A", "dispose B"], disposed);
    }

    [Fact]
    public void Json_fields_are_read_by_dotted_path_with_array_indexes()
    {
        string stdout = "log line before\n{\"results\":[{\"qps\":10.5},{\"qps\":20}],\"build\":{\"seconds\":2}}";
        var qps = MetricSpec.Rate("second", "q/s");
        var metrics = RegressRun.ReadJson("ann", stdout, [("results.1.qps", qps), ("build.seconds", MetricSpec.Time("build", "s"))]);
        Assert.Equal(20, metrics[qps]);
        Assert.Equal(2, metrics[MetricSpec.Time("build", "s")]);
        var missing = Assert.Throws<InvalidDataException>(() => RegressRun.ReadJson("ann", stdout, [("results.2.qps", qps)]));
        Assert.Contains("no 'results.2.qps'", missing.Message);
        Assert.Throws<InvalidDataException>(() => RegressRun.ReadJson("ann", "no json here", [("x", qps)]));
    }

    [Fact]
    public void The_report_carries_the_interface_fields_and_the_metrics_only_one_side_measured()
    {
        var a = new Dictionary<MetricSpec, List<double>> { [MetricSpec.Time("kept")] = [100, 101, 99, 100, 102], [MetricSpec.Time("removed")] = [1, 1, 1] };
        var b = new Dictionary<MetricSpec, List<double>> { [MetricSpec.Time("kept")] = [130, 131, 129, 132, 128], [MetricSpec.Time("added")] = [1, 1, 1] };
        var comparisons = RegressCommand.Compare(a, b);
        var unmatched = new Unmatched(RegressCommand.OnlyIn(a, b), RegressCommand.OnlyIn(b, a));
        Assert.Equal(["removed"], unmatched.BaselineOnly);
        Assert.Equal(["added"], unmatched.CandidateOnly);

        var json = RegressReport.Json(comparisons, unmatched, [], 5, 1.0, "main");
        Assert.Equal("regression", (string?)json["verdict"]);
        var metric = Assert.Single(json["metrics"]!.AsArray())!.AsObject();
        foreach (string field in new[] { "name", "baseline", "candidate", "ratio", "ci_low", "ci_high", "p_value", "verdict" }) Assert.True(metric.ContainsKey(field), field);
        Assert.Equal(100, (double)metric["baseline"]!);
        Assert.Equal(130, (double)metric["candidate"]!);
        Assert.Equal("regression", (string?)metric["verdict"]);
        Assert.Equal(["added"], json["candidate_only"]!.AsArray().Select(n => (string?)n));

        string md = RegressReport.Markdown(comparisons, unmatched);
        Assert.Contains("Measured by A (baseline) only, not compared: removed.", md);
        Assert.Contains("Measured by B (candidate) only, not compared: added.", md);
        Assert.Contains("Verdict: **regression**", md);
    }

    [Fact]
    public void The_overall_verdict_is_the_worst_metric()
    {
        var same = Comparison.Of(MetricSpec.Quality("same"), [0.3, 0.3], [0.3, 0.3]);
        var better = Comparison.Of(MetricSpec.Quality("better"), [0.3, 0.3], [0.31, 0.31]);
        var worse = Comparison.Of(MetricSpec.Quality("worse"), [0.3, 0.3], [0.29, 0.29]);
        Assert.Equal(Verdict.Same, RegressReport.Overall([same]));
        Assert.Equal(Verdict.Improvement, RegressReport.Overall([same, better]));
        Assert.Equal(Verdict.Regression, RegressReport.Overall([better, worse, same]));
    }

    [Theory]
    [InlineData("--area", "gpu")]
    [InlineData("--suite", "no-such-run")]
    [InlineData("--rounds", "3")]
    [InlineData("--baseline-dir", "/nonexistent/build")]
    public void Arguments_it_cannot_use_end_with_exit_code_2_not_a_verdict(string option, string value)
    {
        string[] args = option == "--baseline-dir" ? [option, value] : ["--baseline", "main", option, value, "--out", _work];
        Assert.Equal(2, RegressCommand.Run(args));
        Assert.Empty(Directory.GetDirectories(_work));
    }

    [Fact]
    public void A_server_that_cannot_start_is_reported_with_its_log_and_leaves_no_process()
    {
        // No recsys.dll there: dotnet exits at once, every attempt.
        string build = Directory.CreateDirectory(Path.Combine(_work, "empty-build")).FullName;
        var e = Assert.ThrowsAny<InvalidOperationException>(() => RunningServer.Start(build, Path.Combine(_work, "server")));
        Assert.Contains("exited", e.Message);
        string log = Path.Combine(_work, "server", "server.log");
        Assert.Contains(log, e.Message);
        Assert.Contains("recsys.dll", File.ReadAllText(log));
    }
}
