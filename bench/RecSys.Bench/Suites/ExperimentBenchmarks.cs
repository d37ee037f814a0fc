using BenchmarkDotNet.Attributes;
using RecSys.Engine.Experiments;

namespace RecSys.Bench.Suites;

/// <summary>
/// A/B experiments: the per-request assignment (no experiment, and two experiments on disjoint layers),
/// and the report's work, attribution and statistics, over a simulated experiment of 11,000 users
/// (about 55k exposures of 10 tracks and 30k plays).
/// </summary>
public class ExperimentBenchmarks
{
    private ExperimentSet _two = ExperimentSet.Empty;
    private ExperimentDefinition _definition = null!;
    private Exposure[] _exposures = [];
    private Engine.Events.PlayEvent[] _plays = [];
    private AttributionResult _attribution = null!;
    private long _user;

    private static readonly DateTime Now = new(2026, 6, 2, 0, 0, 0, DateTimeKind.Utc);

    [GlobalSetup]
    public void Setup()
    {
        ExperimentDefinition Make(string id, double from, double to) => new()
        {
            Id = id,
            Salt = id,
            Arms = [new ExperimentArm("control", 50, "ml"), new ExperimentArm("b", 50, "popularity")],
            LayerFrom = from,
            LayerTo = to,
        };
        _two = new ExperimentSet([Make("a", 0, 50), Make("b", 50, 100)]);
        (_definition, _exposures, _plays) = Experiments.AbSimulation.Generate(new Experiments.AbSimulation.Scenario(1, 11_000, Lift: 0.05, Seed: 5), 0);
        _attribution = Attribution.Run(_definition, _exposures, _plays);
    }

    [Benchmark(Baseline = true)]
    public ArmAssignment? AssignWithoutExperiments() => ExperimentSet.Empty.Assign(ExperimentDefinition.PersonalEndpoint, ++_user, Now);

    [Benchmark]
    public ArmAssignment? AssignTwoLayers() => _two.Assign(ExperimentDefinition.PersonalEndpoint, ++_user, Now);

    [Benchmark]
    public AttributionResult Attribute() => Attribution.Run(_definition, _exposures, _plays);

    [Benchmark]
    public string Report() => ExperimentReport.Build(_definition, _attribution, Now).ToJsonString();
}
