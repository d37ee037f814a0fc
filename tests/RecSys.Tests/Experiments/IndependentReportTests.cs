using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using RecSys.Bench.Experiments;
using RecSys.Engine.Experiments;

namespace RecSys.Tests.Experiments;

/// <summary>
/// The report on a simulated experiment of thousands of users against numpy and scipy (Debian's
/// python3-numpy and python3-scipy, which ./test.sh installs): every mean, lift, interval and p-value,
/// unadjusted and with CUPED, and the sample-ratio check.
/// </summary>
public sealed class IndependentReportTests
{
    [Fact]
    public void Report_agrees_with_numpy_and_scipy()
    {
        var (definition, attribution) = AbSimulation.Simulate(new AbSimulation.Scenario(1, 6000, Lift: 0.1, Seed: 11), 0);
        var now = definition.StartUtc!.Value.AddDays(30);
        var report = ExperimentReport.Build(definition, attribution, now);
        using var dir = new TempDir();
        string csv = Path.Combine(dir.Path, "users.csv");
        var text = new StringBuilder("arm,exposures,plays,completed,listening_ms,pre_plays\n");
        foreach (var u in attribution.Users)
        {
            text.Append(CultureInfo.InvariantCulture, $"{u.Arm},{u.Exposures},{u.Plays},{u.Completed},{u.ListeningMs:R},{u.PrePlays}\n");
        }
        File.WriteAllText(csv, text.ToString());
        var expected = Python(csv, "50", "50");

        Assert.Equal((double)expected["srm_p_value"]!, (double)report["srm_p_value"]!, 9);
        foreach (var (name, _) in ExperimentReport.Metrics)
        {
            var ours = report["arms"]![1]!["metrics"]![name]!;
            var cuped = expected[name]!["cuped"]![1]!;
            var raw = expected[name]!["unadjusted"]![1]!;
            foreach (string field in new[] { "lift", "ci_low", "ci_high", "p_value" })
            {
                Close((double)cuped[field]!, (double)ours[field]!, $"{name}.{field}");
                Close((double)raw[field]!, (double)ours["unadjusted"]![field]!, $"{name}.unadjusted.{field}");
            }
        }
        Close((double)expected["listening_ms_per_user"]!["scipy_welch_p"]![1]!, (double)report["arms"]![1]!["metrics"]!["listening_ms_per_user"]!["unadjusted"]!["p_value"]!, "scipy ttest_ind");
    }

    /// <summary>Relative agreement to 1e-8 (absolute near zero): the two compute the same formulas in different orders.</summary>
    private static void Close(double expected, double actual, string what) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-8 * Math.Max(1, Math.Abs(expected)), $"{what}: scipy {expected:R}, ours {actual:R}");

    private static JsonNode Python(params string[] args)
    {
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Experiments", "independent_report.py"));
        foreach (string a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"numpy/scipy failed (install python3-numpy and python3-scipy; ./test.sh does): {stderr.Result}");
        return JsonNode.Parse(stdout)!;
    }
}
