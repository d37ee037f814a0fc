using RecSys.Engine.Experiments;
using RecSys.Engine.Experiments.Statistics;

namespace RecSys.Tests.Experiments;

public sealed class AssignmentTests
{
    private static ExperimentDefinition Definition(string id = "exp", double[]? weights = null, double from = 0, double to = 100, double sample = 1,
        Dictionary<long, string>? overrides = null, DateTime? start = null, DateTime? stop = null, string[]? endpoints = null) => new()
    {
        Id = id,
        Salt = id + "-salt",
        Arms = [.. (weights ?? [50, 50]).Select((w, i) => new ExperimentArm(i == 0 ? "control" : $"arm{i}", w, "ml"))],
        LayerFrom = from,
        LayerTo = to,
        ExposureSample = sample,
        Overrides = overrides ?? [],
        StartUtc = start,
        StopUtc = stop,
        Endpoints = endpoints ?? [ExperimentDefinition.PersonalEndpoint],
    };

    private static readonly DateTime Now = new(2026, 12, 1, 12, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void Assignment_is_a_fixed_function_of_salt_and_user()
    {
        // Pinned: these must not change across processes, machines or releases (a change would move
        // every running experiment's users between arms).
        var set = new ExperimentSet([Definition()]);
        int[] arms = [.. Enumerable.Range(1, 16).Select(u => set.Assign(ExperimentDefinition.PersonalEndpoint, u, Now)!.Arm)];
        Assert.Equal("0,0,1,1,0,1,0,0,0,0,0,0,0,1,0,1", string.Join(",", arms));
        Assert.Equal("0.027188155103818556", Assignment.Unit(Assignment.Seed("s1"), 42).ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        var again = new ExperimentSet([Definition()]);
        for (long u = 0; u < 10_000; u++)
        {
            Assert.Equal(set.Assign(ExperimentDefinition.PersonalEndpoint, u, Now)!.Arm, again.Assign(ExperimentDefinition.PersonalEndpoint, u, Now)!.Arm);
        }
    }

    [Theory]
    [InlineData(new double[] { 50, 50 })]
    [InlineData(new double[] { 70, 30 })]
    [InlineData(new double[] { 1, 1, 1, 1, 1 })]
    [InlineData(new double[] { 90, 5, 5 })]
    public void A_million_users_split_by_weight(double[] weights)
    {
        var experiment = new LiveExperiment(Definition(weights: weights));
        var counts = new long[weights.Length];
        for (long u = 0; u < 1_000_000; u++) counts[experiment.HashedArm(u * 7919 + 13)]++;
        double p = MetricComparison.SampleRatioMismatch(counts, weights)!.Value;
        // Chi-square goodness of fit: a fair hash passes at 0.1 % all but one time in a thousand.
        Assert.True(p > 0.001, $"counts {string.Join(",", counts)} do not fit {string.Join(":", weights)} (p = {p})");
    }

    [Fact]
    public void Arms_of_different_salts_are_independent()
    {
        var a = new LiveExperiment(Definition("a"));
        var b = new LiveExperiment(Definition("b"));
        var table = new long[4];
        for (long u = 0; u < 200_000; u++) table[a.HashedArm(u) * 2 + b.HashedArm(u)]++;
        Assert.True(MetricComparison.SampleRatioMismatch(table, [1, 1, 1, 1]) > 0.001, string.Join(",", table));
    }

    [Fact]
    public void Disjoint_layers_never_share_a_user_and_cover_their_share()
    {
        var set = new ExperimentSet([Definition("left", to: 30), Definition("right", from: 30, to: 100, endpoints: [ExperimentDefinition.PersonalEndpoint])]);
        var inLeft = 0;
        for (long u = 0; u < 100_000; u++)
        {
            var assigned = set.Assign(ExperimentDefinition.PersonalEndpoint, u, Now)!;
            if (assigned.Experiment.Id == "left") inLeft++;
            double layer = ExperimentSet.LayerPosition(u);
            Assert.Equal(layer < 30 ? "left" : "right", assigned.Experiment.Id);
        }
        Assert.InRange(inLeft, 29_400, 30_600);
        Assert.Null(set.Assign(ExperimentDefinition.LegacyEndpoint, 1, Now));
    }

    [Fact]
    public void Overrides_time_span_and_sampling()
    {
        var set = new ExperimentSet([Definition(overrides: new() { [7] = "arm1", [8] = "control" }, to: 50, sample: 0.25, start: Now, stop: Now.AddDays(1))]);
        long outside = Enumerable.Range(0, 1000).First(u => ExperimentSet.LayerPosition(u) >= 50);
        Assert.Null(set.Assign(ExperimentDefinition.PersonalEndpoint, outside, Now));
        Assert.Null(set.Assign(ExperimentDefinition.PersonalEndpoint, 7, Now.AddSeconds(-1)));
        Assert.Null(set.Assign(ExperimentDefinition.PersonalEndpoint, 7, Now.AddDays(1)));
        var forced = set.Assign(ExperimentDefinition.PersonalEndpoint, 7, Now)!;
        Assert.True(forced.Overridden);
        Assert.False(forced.Logged);
        Assert.Equal("arm1", forced.Definition.Name);
        Assert.Equal("control", set.Assign(ExperimentDefinition.PersonalEndpoint, 8, Now)!.Definition.Name);
        int logged = 0, assigned = 0;
        for (long u = 100; u < 40_100; u++)
        {
            if (set.Assign(ExperimentDefinition.PersonalEndpoint, u, Now) is not { } a) continue;
            assigned++;
            if (a.Logged) logged++;
            // Sampling is per user: the same user is always in or out.
            Assert.Equal(a.Logged, set.Assign(ExperimentDefinition.PersonalEndpoint, u, Now.AddHours(3))!.Logged);
        }
        Assert.InRange(logged / (double)assigned, 0.23, 0.27);
    }

    [Fact]
    public void An_override_applies_whichever_experiment_holds_the_users_layer()
    {
        // User 3 sits in one experiment's layer; the other experiment's override still sends it there.
        long user = Enumerable.Range(0, 1000).First(u => ExperimentSet.LayerPosition(u) < 50);
        var set = new ExperimentSet([Definition("low", to: 50), Definition("high", from: 50, overrides: new() { [user] = "arm1" })]);
        var assigned = set.Assign(ExperimentDefinition.PersonalEndpoint, user, Now)!;
        Assert.Equal("high", assigned.Experiment.Id);
        Assert.True(assigned.Overridden);
    }

    [Fact]
    public void Overlapping_experiments_are_detected()
    {
        var a = Definition("a", to: 50);
        Assert.True(a.Overlaps(Definition("b", from: 40)));
        Assert.False(a.Overlaps(Definition("b", from: 50)));
        Assert.False(a.Overlaps(Definition("b", endpoints: [ExperimentDefinition.LegacyEndpoint])));
        Assert.False(Definition("a", stop: Now).Overlaps(Definition("b", start: Now)));
        Assert.True(Definition("a", stop: Now.AddSeconds(1)).Overlaps(Definition("b", start: Now)));
    }
}
