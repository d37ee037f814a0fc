using System.Text.Json.Nodes;
using RecSys.Engine.Experiments;
using RecSys.Engine.Experiments.Statistics;

namespace RecSys.Tests.Experiments;

/// <summary>The report's statistics against a case small enough to compute by hand.</summary>
public sealed class ReportTests
{
    private static readonly ExperimentDefinition Experiment = new()
    {
        Id = "hand",
        Salt = "hand",
        Arms = [new ExperimentArm("control", 1, "ml"), new ExperimentArm("treatment", 1, "popularity")],
        StartUtc = new DateTime(2026, 12, 1, 0, 0, 0, DateTimeKind.Utc),
    };

    // (exposures, plays, completed, listening ms) per user; no pre-experiment plays, so CUPED changes nothing.
    private static readonly UserOutcome[] Users =
    [
        new(1, 0, 2, 1, 1, 1, 0), new(2, 0, 1, 0, 0, 2, 0), new(3, 0, 3, 3, 1, 3, 0),
        new(4, 1, 2, 2, 2, 2, 0), new(5, 1, 1, 2, 1, 4, 0), new(6, 1, 3, 2, 2, 6, 0),
    ];

    private static JsonObject Metric(JsonObject report, int arm, string name) => report["arms"]![arm]!["metrics"]![name]!.AsObject();

    [Fact]
    public void Per_user_metric_is_Welchs_t_test()
    {
        var report = ExperimentReport.Build(Experiment, new AttributionResult(Users, 0, 0, 0, 0, 0), Experiment.StartUtc!.Value.AddDays(1));
        // Listening: control 1, 2, 3 (mean 2, variance 1); treatment 2, 4, 6 (mean 4, variance 4).
        // Var of the means 1/3 and 4/3; t = 2 / √(5/3); Welch–Satterthwaite df = (5/3)² / ((4/3)²/2 + (1/3)²/2) = 50/17.
        var m = Metric(report, 1, "listening_ms_per_user");
        Assert.Equal(2.0, (double)Metric(report, 0, "listening_ms_per_user")["mean"]!, 12);
        Assert.Equal(4.0, (double)m["mean"]!, 12);
        Assert.Equal(1.0, (double)m["lift"]!, 12);
        double t = 2 / Math.Sqrt(5.0 / 3), df = 50.0 / 17;
        Assert.Equal(Distributions.StudentTTwoSided(t, df), (double)m["p_value"]!, 12);
        // Lift's standard error by the delta method: √(v_t/m_c² + m_t² v_c/m_c⁴) = √(1/3 + 1/3).
        double half = Distributions.StudentTQuantile(0.975, df) * Math.Sqrt(2.0 / 3);
        Assert.Equal(1 - half, (double)m["ci_low"]!, 9);
        Assert.Equal(1 + half, (double)m["ci_high"]!, 9);
        Assert.Equal(0.0, (double)m["variance_reduction"]!, 12);
        Assert.Equal(1.0, (double)report["srm_p_value"]!, 12);
        Assert.False((bool)report["srm_detected"]!);
        Assert.Equal(3, (int)report["arms"]![1]!["users"]!);
        Assert.Equal(6, (long)report["arms"]![1]!["exposures"]!);
    }

    [Fact]
    public void Ratio_metric_uses_the_delta_method()
    {
        var report = ExperimentReport.Build(Experiment, new AttributionResult(Users, 0, 0, 0, 0, 0), Experiment.StartUtc!.Value.AddDays(1));
        // Plays per exposure. Control (Y, X) = (1,2), (0,1), (3,3): m = 4/6, X̄ = 2, linearised L = (Y − mX)/X̄
        // = −1/6, −1/3, 1/2, variance 7/36, Var(m) = 7/108. Treatment (2,2), (2,1), (2,3): m = 1,
        // L = 0, 1/2, −1/2, variance 1/4, Var(m) = 1/12.
        var m = Metric(report, 1, "plays_per_exposure");
        Assert.Equal(4.0 / 6, (double)Metric(report, 0, "plays_per_exposure")["mean"]!, 12);
        Assert.Equal(7.0 / 36, (double)Metric(report, 0, "plays_per_exposure")["per_user_variance"]!, 12);
        Assert.Equal(1.0 / 4, (double)Metric(report, 1, "plays_per_exposure")["per_user_variance"]!, 12);
        Assert.Equal(1.0, (double)m["mean"]!, 12);
        Assert.Equal(0.5, (double)m["lift"]!, 12);
        double vc = 7.0 / 108, vt = 1.0 / 12;
        double t = (1 - 4.0 / 6) / Math.Sqrt(vc + vt);
        double df = (vc + vt) * (vc + vt) / (vc * vc / 2 + vt * vt / 2);
        Assert.Equal(Distributions.StudentTTwoSided(t, df), (double)m["p_value"]!, 12);
        double mc = 4.0 / 6, liftSe = Math.Sqrt(vt / (mc * mc) + vc / (mc * mc * mc * mc));
        Assert.Equal(0.5 + Distributions.StudentTQuantile(0.975, df) * liftSe, (double)m["ci_high"]!, 9);
    }

    [Fact]
    public void Cuped_removes_the_variance_the_covariate_explains()
    {
        // Listening = 10 × pre-plays + noise: the covariate explains nearly all of it.
        var rng = new Random(3);
        var users = Enumerable.Range(0, 2000).Select(i =>
        {
            int pre = rng.Next(0, 50);
            return new UserOutcome(i, i % 2, 1, 1, 1, 10 * pre + rng.NextDouble(), pre);
        }).ToArray();
        var report = ExperimentReport.Build(Experiment, new AttributionResult(users, 0, 0, 0, 0, 0), Experiment.StartUtc!.Value.AddDays(1));
        var m = Metric(report, 1, "listening_ms_per_user");
        Assert.True((double)m["variance_reduction"]! > 0.99, m.ToJsonString());
        double adjusted = (double)m["ci_high"]! - (double)m["ci_low"]!;
        double raw = (double)m["unadjusted"]!["ci_high"]! - (double)m["unadjusted"]!["ci_low"]!;
        Assert.True(adjusted < raw / 10, $"{adjusted} vs {raw}");
        var off = ExperimentReport.Build(Experiment, new AttributionResult(users, 0, 0, 0, 0, 0), Experiment.StartUtc!.Value.AddDays(1), cuped: false);
        Assert.Equal(raw, (double)Metric(off, 1, "listening_ms_per_user")["ci_high"]! - (double)Metric(off, 1, "listening_ms_per_user")["ci_low"]!, 9);
        Assert.Null(off["cuped"]);
    }

    [Fact]
    public void Sample_ratio_mismatch_is_flagged()
    {
        var users = Enumerable.Range(0, 2200).Select(i => new UserOutcome(i, i < 1200 ? 0 : 1, 1, 0, 0, 0, 0)).ToArray();
        var report = ExperimentReport.Build(Experiment, new AttributionResult(users, 0, 0, 0, 0, 0), DateTime.UtcNow);
        // χ² = 2 × 100² / 1100 = 18.2 on 1 df.
        Assert.Equal(Distributions.ChiSquareSurvival(200.0 * 100 / 1100, 1), (double)report["srm_p_value"]!, 12);
        Assert.True((bool)report["srm_detected"]!);
    }

    [Fact]
    public void Without_users_the_report_has_no_numbers_rather_than_NaN()
    {
        var report = ExperimentReport.Build(Experiment, new AttributionResult([], 0, 0, 0, 0, 0), DateTime.UtcNow);
        Assert.Null(report["srm_p_value"]);
        Assert.Null(Metric(report, 1, "plays_per_exposure")["p_value"]);
        Assert.Null(Metric(report, 1, "plays_per_exposure")["mean"]);
        Assert.Contains("\"plays_per_exposure\"", report.ToJsonString());
    }
}
