using System.Text.Json.Nodes;
using RecSys.Engine.Experiments.Statistics;

namespace RecSys.Engine.Experiments;

/// <summary>
/// The report of an experiment: per arm its users, exposures and each metric's mean, and against the
/// control (the first arm) the relative lift with a 95 % interval and a p-value, computed per user
/// (docs/experiments.md gives the formulas). With CUPED (the default) the main figures are adjusted by
/// each user's pre-experiment plays and the unadjusted ones are kept beside them.
/// </summary>
public static class ExperimentReport
{
    public const double SrmThreshold = 0.001;

    /// <summary>The metrics, each as (numerator, denominator) of a user.</summary>
    public static readonly IReadOnlyList<(string Name, Func<UserOutcome, (double Y, double X)> Value)> Metrics =
    [
        ("plays_per_exposure", u => (u.Plays, u.Exposures)),
        ("completion_rate", u => (u.Completed, u.Plays)),
        ("listening_ms_per_user", u => (u.ListeningMs, 1)),
    ];

    public static JsonObject Build(ExperimentDefinition experiment, AttributionResult attribution, DateTime nowUtc, bool cuped = true)
    {
        int armCount = experiment.Arms.Count;
        var byArm = new List<UserOutcome>[armCount];
        for (int i = 0; i < armCount; i++) byArm[i] = [];
        foreach (var user in attribution.Users) byArm[user.Arm].Add(user);
        double? srm = MetricComparison.SampleRatioMismatch([.. byArm.Select(a => (long)a.Count)], [.. experiment.Arms.Select(a => a.Weight)]);

        var metrics = new Dictionary<string, JsonObject>[armCount];
        for (int i = 0; i < armCount; i++) metrics[i] = [];
        foreach (var (name, value) in Metrics)
        {
            var analysis = Analyse(byArm, value, cuped);
            for (int arm = 0; arm < armCount; arm++)
            {
                var raw = analysis.Raw[arm];
                var adjusted = analysis.Adjusted[arm];
                // The linearised per-user variance is what the sample-size formula needs (docs/experiments.md).
                var node = new JsonObject { ["mean"] = Number(analysis.Samples[arm].Mean), ["per_user_variance"] = Number(analysis.Samples[arm].LinearisedVariance) };
                AddComparison(node, adjusted);
                if (cuped && raw is not null && adjusted is not null)
                {
                    double reduction = raw.StandardError > 0 ? 1 - adjusted.StandardError * adjusted.StandardError / (raw.StandardError * raw.StandardError) : double.NaN;
                    node["variance_reduction"] = Number(reduction);
                    var unadjusted = new JsonObject();
                    AddComparison(unadjusted, raw);
                    node["unadjusted"] = unadjusted;
                }
                metrics[arm][name] = node;
            }
        }
        var arms = new JsonArray();
        for (int i = 0; i < armCount; i++)
        {
            var arm = experiment.Arms[i];
            var users = byArm[i];
            arms.Add(new JsonObject
            {
                ["name"] = arm.Name,
                ["strategy"] = arm.Strategy,
                ["weight"] = arm.Weight,
                ["control"] = i == 0,
                ["users"] = users.Count,
                ["exposures"] = users.Sum(u => u.Exposures),
                ["plays_from_recommendations"] = users.Sum(u => u.Plays),
                ["metrics"] = new JsonObject([.. metrics[i].Select(m => KeyValuePair.Create(m.Key, (JsonNode?)m.Value))]),
            });
        }
        return new JsonObject
        {
            ["experiment"] = experiment.Id,
            ["version"] = experiment.Version,
            ["status"] = experiment.Status(nowUtc),
            ["start"] = ExperimentJson.Iso(experiment.StartUtc ?? experiment.CreatedUtc),
            ["stop"] = experiment.StopUtc is { } stop ? ExperimentJson.Iso(stop) : null,
            ["generated"] = ExperimentJson.Iso(nowUtc),
            ["attribution_window_hours"] = experiment.AttributionWindowHours,
            ["confidence"] = MetricComparison.Confidence,
            ["cuped"] = cuped ? new JsonObject { ["covariate"] = $"plays in the {experiment.CovariateDays} days before the start" } : null,
            ["srm_p_value"] = srm is { } p ? Number(p) : null,
            ["srm_detected"] = srm is { } q && q < SrmThreshold,
            ["excluded"] = new JsonObject
            {
                ["users_in_two_arms"] = attribution.UsersInTwoArms,
                ["override_users"] = attribution.OverriddenUsers,
                ["exposures_of_unknown_arms"] = attribution.ExposuresOfUnknownArms,
                ["duplicate_plays"] = attribution.DuplicatePlays,
            },
            ["arms"] = arms,
        };
    }

    /// <summary>One metric over the arms: each arm's sample, and each non-control arm against the control, unadjusted and (when asked) with CUPED.</summary>
    public sealed record MetricAnalysis(ArmSample[] Samples, MetricComparison?[] Raw, MetricComparison?[] Adjusted);

    /// <summary>The comparisons behind a metric's report entries (the simulator checks exactly these).</summary>
    public static MetricAnalysis Analyse(IReadOnlyList<IReadOnlyList<UserOutcome>> byArm, Func<UserOutcome, (double Y, double X)> value, bool cuped)
    {
        var samples = byArm.Select(users => Sample(users, value)).ToArray();
        double theta = cuped ? MetricComparison.Theta(samples) : 0;
        long users = byArm.Sum(a => (long)a.Count);
        double covariateMean = users == 0 ? 0 : byArm.Sum(a => a.Sum(u => (double)u.PrePlays)) / users;
        var raw = new MetricComparison?[samples.Length];
        var adjusted = new MetricComparison?[samples.Length];
        for (int arm = 1; arm < samples.Length; arm++)
        {
            raw[arm] = MetricComparison.Compare(samples[arm], samples[0]);
            adjusted[arm] = cuped ? MetricComparison.Compare(samples[arm], samples[0], theta, covariateMean) : raw[arm];
        }
        return new MetricAnalysis(samples, raw, adjusted);
    }

    /// <summary>The plays a report reads: from the covariate window before the start to one attribution window after the stop (or now).</summary>
    public static (DateTime From, DateTime To) PlaySpan(ExperimentDefinition experiment, DateTime nowUtc)
    {
        DateTime start = experiment.StartUtc ?? experiment.CreatedUtc;
        DateTime end = experiment.StopUtc is { } stop && stop < nowUtc ? stop : nowUtc;
        return (start.AddDays(-experiment.CovariateDays), end.AddHours(experiment.AttributionWindowHours));
    }

    public static ArmSample Sample(IReadOnlyList<UserOutcome> users, Func<UserOutcome, (double Y, double X)> value)
    {
        var values = new UserValue[users.Count];
        for (int i = 0; i < values.Length; i++)
        {
            var (y, x) = value(users[i]);
            values[i] = new UserValue(y, x, users[i].PrePlays);
        }
        return new ArmSample(values);
    }

    private static void AddComparison(JsonObject node, MetricComparison? c)
    {
        node["lift"] = Number(c?.Lift);
        node["ci_low"] = Number(c?.CiLow);
        node["ci_high"] = Number(c?.CiHigh);
        node["p_value"] = Number(c?.PValue);
    }

    /// <summary>A finite number as JSON, else null (JSON has no NaN).</summary>
    private static JsonNode? Number(double? value) => value is { } v && double.IsFinite(v) ? JsonValue.Create(v) : null;
}
