using System.Text.Json;
using System.Text.Json.Nodes;

namespace RecSys.Bench.Experiments;

/// <summary>
/// <c>ab-sim [--experiments 200] [--users 11000] [--aa-users 4000] [--lift 0.05] [--loss 0.1] [--seed 1]</c>:
/// the experiment statistics' error rates over simulated experiments with known truth
/// (<see cref="AbSimulation"/>): A/A false-positive rate, power against the sample-size formula's
/// prediction, sample-ratio-mismatch detection, and how much CUPED narrows the intervals. Prints JSON.
/// </summary>
public static class AbSimExperiment
{
    public static int Run(string[] args)
    {
        int experiments = Experiment.PositiveIntArg(args, "--experiments", 200);
        int users = Experiment.PositiveIntArg(args, "--users", 11_000);
        int aaUsers = Experiment.PositiveIntArg(args, "--aa-users", 4_000);
        double lift = Experiment.NumberArg(args, "--lift", 0.05);
        double loss = Experiment.NumberArg(args, "--loss", 0.1);
        ulong seed = (ulong)Experiment.PositiveIntArg(args, "--seed", 1);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var summary = Summarise(experiments, users, aaUsers, lift, loss, seed);
        summary["seconds"] = Math.Round(watch.Elapsed.TotalSeconds, 1);
        Console.WriteLine(summary.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }

    /// <summary>Runs the three scenarios (A/A, a true lift, a skewed assignment) and summarises them.</summary>
    public static JsonObject Summarise(int experiments, int users, int aaUsers, double lift, double loss, ulong seed)
    {
        const double alpha = 0.05;
        var aa = AbSimulation.Run(new AbSimulation.Scenario(experiments, aaUsers, Seed: seed));
        var ab = AbSimulation.Run(new AbSimulation.Scenario(experiments, users, Lift: lift, Seed: seed + 1));
        var skewed = AbSimulation.Run(new AbSimulation.Scenario(experiments, users, TreatmentLoss: loss, Seed: seed + 2));

        double mean = ab.Average(o => o.ControlMean), variance = ab.Average(o => o.ControlVariance), perArm = ab.Average(o => (o.ControlUsers + o.TreatmentUsers) / 2.0);
        double varianceRatio = ab.Average(o => o.Cuped.StandardError * o.Cuped.StandardError / (o.Raw.StandardError * o.Raw.StandardError));
        return new JsonObject
        {
            ["experiments_per_scenario"] = experiments,
            ["alpha"] = alpha,
            ["metric"] = "plays_per_exposure",
            ["aa"] = new JsonObject
            {
                ["users"] = aaUsers,
                ["false_positive_rate"] = Rate(aa, o => o.Raw.PValue < alpha),
                ["false_positive_rate_cuped"] = Rate(aa, o => o.Cuped.PValue < alpha),
                ["ci_coverage"] = Rate(aa, o => o.Raw.CiLow <= 0 && o.Raw.CiHigh >= 0),
                ["srm_flagged"] = Rate(aa, o => o.SrmP < 0.001),
            },
            ["lift"] = new JsonObject
            {
                ["users"] = users,
                ["true_lift"] = lift,
                ["power"] = Rate(ab, o => o.Raw.PValue < alpha && o.Raw.Lift > 0),
                ["predicted_power"] = Math.Round(AbSimulation.PredictedPower(lift, mean, variance, perArm, alpha), 4),
                ["power_cuped"] = Rate(ab, o => o.Cuped.PValue < alpha && o.Cuped.Lift > 0),
                ["predicted_power_cuped"] = Math.Round(AbSimulation.PredictedPower(lift, mean, variance * varianceRatio, perArm, alpha), 4),
                ["ci_coverage"] = Rate(ab, o => o.Raw.CiLow <= lift && o.Raw.CiHigh >= lift),
                ["ci_coverage_cuped"] = Rate(ab, o => o.Cuped.CiLow <= lift && o.Cuped.CiHigh >= lift),
                ["mean_lift_estimate"] = Math.Round(ab.Average(o => o.Raw.Lift ?? double.NaN), 4),
                ["users_per_arm_for_80pct_power"] = Math.Round(AbSimulation.UsersPerArm(lift, mean, variance)),
            },
            ["srm"] = new JsonObject
            {
                ["users"] = users,
                ["treatment_users_lost"] = loss,
                ["flagged"] = Rate(skewed, o => o.SrmP < 0.001),
            },
            ["cuped"] = new JsonObject
            {
                ["variance_reduction"] = Math.Round(1 - varianceRatio, 4),
                ["ci_width_ratio"] = Math.Round(ab.Average(o => (o.Cuped.CiHigh - o.Cuped.CiLow) / (o.Raw.CiHigh - o.Raw.CiLow) ?? double.NaN), 4),
            },
        };
    }

    private static double Rate(AbSimulation.Outcome[] outcomes, Func<AbSimulation.Outcome, bool> hit) =>
        Math.Round(outcomes.Count(hit) / (double)outcomes.Length, 4);
}
