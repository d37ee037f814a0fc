using RecSys.Engine.Data;
using RecSys.Engine.Events;
using RecSys.Engine.Experiments;
using RecSys.Engine.Experiments.Statistics;

namespace RecSys.Bench.Experiments;

/// <summary>
/// Simulated A/B experiments with known truth, driven through the real assignment
/// (<see cref="ExperimentSet"/>), exposure records, attribution and statistics. Each user has an
/// activity (how many answers they see) and a taste for recommendations (the chance to play a shown
/// track), both heavy-tailed; their pre-experiment plays follow the same two, so CUPED has something to
/// use. The treatment multiplies the play chance by 1 + lift; a skew drops that share of treatment
/// users (a logging bug), which the sample-ratio check must flag. Plays outside the attribution window,
/// of tracks not shown, and before the exposure are mixed in and must not count.
/// </summary>
public static class AbSimulation
{
    public sealed record Scenario(int Experiments, int Users, double Lift = 0, double TreatmentLoss = 0, ulong Seed = 1, double BasePlayChance = 0.05);

    /// <summary>One simulated experiment's verdict on plays per exposure, unadjusted and with CUPED.</summary>
    public readonly record struct Outcome(MetricComparison Raw, MetricComparison Cuped, double? SrmP, double ControlMean, double ControlVariance, int ControlUsers, int TreatmentUsers);

    private const int Shown = 10, Catalog = 2_000;
    private static readonly DateTime Start = new(2026, 6, 1, 0, 0, 0, DateTimeKind.Utc);

    public static Outcome[] Run(Scenario scenario)
    {
        var outcomes = new Outcome[scenario.Experiments];
        Parallel.For(0, scenario.Experiments, k => outcomes[k] = RunOne(scenario, k));
        return outcomes;
    }

    public static Outcome RunOne(Scenario scenario, int k)
    {
        var (_, attribution) = Simulate(scenario, k);
        var byArm = new[] { attribution.Users.Where(u => u.Arm == 0).ToArray(), attribution.Users.Where(u => u.Arm == 1).ToArray() };
        // The report's own analysis of its first metric: the simulator checks what operators read.
        var analysis = ExperimentReport.Analyse(byArm, ExperimentReport.Metrics[0].Value, cuped: true);
        return new Outcome(analysis.Raw[1]!, analysis.Adjusted[1]!,
            MetricComparison.SampleRatioMismatch([byArm[0].Length, byArm[1].Length], [50, 50]),
            analysis.Samples[0].Mean, analysis.Samples[0].LinearisedVariance, byArm[0].Length, byArm[1].Length);
    }

    /// <summary>Experiment <paramref name="k"/> of the scenario: its definition and what attribution made of its exposures and plays.</summary>
    public static (ExperimentDefinition Definition, AttributionResult Attribution) Simulate(Scenario scenario, int k)
    {
        var (definition, exposures, plays) = Generate(scenario, k);
        return (definition, Attribution.Run(definition, exposures, plays));
    }

    /// <summary>Experiment <paramref name="k"/>'s definition, exposures and plays (time-ordered), before attribution.</summary>
    public static (ExperimentDefinition Definition, Exposure[] Exposures, PlayEvent[] Plays) Generate(Scenario scenario, int k)
    {
        var definition = new ExperimentDefinition
        {
            Id = "sim",
            Salt = $"sim-{scenario.Seed}-{k}",
            Arms = [new ExperimentArm("control", 50, "ml"), new ExperimentArm("treatment", 50, "ml")],
            StartUtc = Start,
            CreatedUtc = Start,
        };
        var set = new ExperimentSet([definition]);
        var rng = new SplitMix(scenario.Seed, (ulong)k);
        var exposures = new List<Exposure>();
        var plays = new List<PlayEvent>();
        for (int u = 0; u < scenario.Users; u++)
        {
            long user = (long)(rng.NextUInt64() >> 2);
            var assigned = set.Assign(ExperimentDefinition.PersonalEndpoint, user, Start.AddHours(1))!;
            bool treatment = assigned.Arm == 1;
            if (treatment && rng.NextDouble() < scenario.TreatmentLoss) continue;
            double activity = Gamma(ref rng, 2) / 2, taste = Gamma(ref rng, 3) / 3;
            double chance = Math.Min(0.9, scenario.BasePlayChance * taste) * (treatment ? 1 + scenario.Lift : 1);
            int pre = Poisson(ref rng, 8 * activity * taste);
            for (int i = 0; i < pre; i++)
            {
                plays.Add(new PlayEvent("", user, rng.NextInt(Catalog), 100, true, Start.AddHours(-1 - rng.NextDouble() * 24 * 26)));
            }
            int answers = 1 + Poisson(ref rng, 4 * activity);
            for (int e = 0; e < answers; e++)
            {
                var shownAt = Start.AddHours(1 + rng.NextDouble() * 24 * 14);
                var tracks = new long[Shown];
                var durations = new int[Shown];
                for (int t = 0; t < Shown; t++)
                {
                    tracks[t] = rng.NextInt(Catalog);
                    durations[t] = 120_000 + (int)(tracks[t] * 97 % 180_000);
                }
                exposures.Add(new Exposure(new Guid((uint)rng.NextUInt64(), 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte)k), definition.Id, assigned.Definition.Name, user, shownAt, tracks, durations));
                for (int t = 0; t < Shown; t++)
                {
                    if (rng.NextDouble() >= chance) continue;
                    bool completed = rng.NextDouble() < 0.6;
                    plays.Add(new PlayEvent("", user, tracks[t], completed ? 100 : 10 + rng.NextInt(80), completed, shownAt.AddHours(rng.NextDouble() * 20)));
                }
                // Plays that must not count: of the shown track after the window, of a track not shown, before the answer.
                if (rng.NextDouble() < 0.2) plays.Add(new PlayEvent("", user, tracks[0], 100, true, shownAt.AddHours(30 + rng.NextDouble() * 24 * 30)));
                if (rng.NextDouble() < 0.2) plays.Add(new PlayEvent("", user, Catalog + rng.NextInt(Catalog), 100, true, shownAt.AddMinutes(5)));
                if (rng.NextDouble() < 0.2) plays.Add(new PlayEvent("", user, tracks[1], 100, true, shownAt.AddMinutes(-5)));
            }
        }
        plays.Sort((a, b) => a.PlayedAtUtc.CompareTo(b.PlayedAtUtc));
        return (definition, [.. exposures], [.. plays]);
    }

    /// <summary>
    /// The sample-size formula of docs/experiments.md solved for power: a relative lift δ on a metric of
    /// mean m and per-user (linearised) variance σ² is detected by a two-sided test at level α with n
    /// users per arm with power Φ(δ·m / √(2σ²/n) − z₁₋α/₂).
    /// </summary>
    public static double PredictedPower(double lift, double mean, double variance, double usersPerArm, double alpha = 0.05) =>
        Distributions.NormalCdf(lift * mean / Math.Sqrt(2 * variance / usersPerArm) - Distributions.NormalQuantile(1 - alpha / 2));

    /// <summary>Users per arm for <paramref name="power"/>: n = 2σ² (z₁₋α/₂ + z_power)² / (δ·m)².</summary>
    public static double UsersPerArm(double lift, double mean, double variance, double power = 0.8, double alpha = 0.05)
    {
        double z = Distributions.NormalQuantile(1 - alpha / 2) + Distributions.NormalQuantile(power);
        return 2 * variance * z * z / (lift * mean * lift * mean);
    }

    /// <summary>Gamma(shape, 1) by Marsaglia and Tsang (shape ≥ 1).</summary>
    private static double Gamma(ref SplitMix rng, double shape)
    {
        double d = shape - 1.0 / 3, c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x = Normal(ref rng), v = 1 + c * x;
            if (v <= 0) continue;
            v = v * v * v;
            double u = rng.NextDouble();
            if (Math.Log(u + 1e-300) < 0.5 * x * x + d - d * v + d * Math.Log(v)) return d * v;
        }
    }

    private static double Normal(ref SplitMix rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    private static int Poisson(ref SplitMix rng, double mean)
    {
        if (mean > 50) return Math.Max(0, (int)Math.Round(mean + Math.Sqrt(mean) * Normal(ref rng)));
        double limit = Math.Exp(-mean), product = rng.NextDouble();
        int n = 0;
        while (product > limit)
        {
            n++;
            product *= rng.NextDouble();
        }
        return n;
    }
}
