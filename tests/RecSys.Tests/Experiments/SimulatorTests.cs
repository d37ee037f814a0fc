using RecSys.Bench.Experiments;

namespace RecSys.Tests.Experiments;

/// <summary>
/// The statistics' error rates over simulated experiments with known truth (seeded: the same numbers
/// every run), through the real assignment, exposure and attribution code: what docs/experiments.md's
/// table shows at full size (<c>B ab-sim</c>), at CI size.
/// </summary>
[Collection(nameof(SimulatorTests))]
[CollectionDefinition(nameof(SimulatorTests), DisableParallelization = true)]
public sealed class SimulatorTests
{
    private const double Alpha = 0.05;

    [Fact]
    public void AA_tests_reject_at_the_nominal_rate_and_SRM_stays_quiet()
    {
        var outcomes = AbSimulation.Run(new AbSimulation.Scenario(Experiments: 400, Users: 2000, Seed: 21));
        double raw = outcomes.Count(o => o.Raw.PValue < Alpha) / (double)outcomes.Length;
        double cuped = outcomes.Count(o => o.Cuped.PValue < Alpha) / (double)outcomes.Length;
        Assert.InRange(raw, 0.03, 0.07);
        Assert.InRange(cuped, 0.03, 0.07);
        Assert.True(outcomes.Count(o => o.SrmP < 0.001) <= 2, "a fair split flagged as a sample ratio mismatch");
    }

    [Fact]
    public void A_true_lift_is_found_with_the_predicted_power_and_CUPED_narrows_the_interval()
    {
        const double lift = 0.05;
        var outcomes = AbSimulation.Run(new AbSimulation.Scenario(Experiments: 200, Users: 11_000, Lift: lift, Seed: 22));
        double power = outcomes.Count(o => o.Raw.PValue < Alpha && o.Raw.Lift > 0) / (double)outcomes.Length;
        double predicted = AbSimulation.PredictedPower(lift, outcomes.Average(o => o.ControlMean), outcomes.Average(o => o.ControlVariance),
            outcomes.Average(o => (o.ControlUsers + o.TreatmentUsers) / 2.0));
        Assert.InRange(predicted, 0.6, 0.95);
        Assert.InRange(power, predicted - 0.05, predicted + 0.05);
        double widthRatio = outcomes.Average(o => (o.Cuped.CiHigh - o.Cuped.CiLow) / (o.Raw.CiHigh - o.Raw.CiLow))!.Value;
        Assert.True(widthRatio < 0.95, $"CUPED interval width ratio {widthRatio}");
        Assert.True(outcomes.Count(o => o.Cuped.PValue < Alpha && o.Cuped.Lift > 0) >= outcomes.Count(o => o.Raw.PValue < Alpha && o.Raw.Lift > 0));
        // The estimate is unbiased: the mean lift over 200 experiments is within its standard error's reach of the truth.
        Assert.InRange(outcomes.Average(o => o.Raw.Lift!.Value), lift - 0.006, lift + 0.006);
    }

    [Fact]
    public void A_skewed_assignment_is_flagged()
    {
        var outcomes = AbSimulation.Run(new AbSimulation.Scenario(Experiments: 200, Users: 11_000, TreatmentLoss: 0.1, Seed: 23));
        Assert.True(outcomes.Count(o => o.SrmP < 0.001) >= 196, $"{outcomes.Count(o => o.SrmP < 0.001)} of 200 flagged");
    }
}
