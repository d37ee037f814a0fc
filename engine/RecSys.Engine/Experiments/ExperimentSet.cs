namespace RecSys.Engine.Experiments;

/// <summary>A user's arm in an experiment, as an answer serves it.</summary>
public sealed record ArmAssignment(LiveExperiment Experiment, int Arm, bool Overridden, bool Logged)
{
    public ExperimentArm Definition => Experiment.Definition.Arms[Arm];
    public ArmStrategy Strategy => Experiment.Strategies[Arm];
}

/// <summary>An experiment prepared for the request path: seeds and shares computed once.</summary>
public sealed class LiveExperiment
{
    public ExperimentDefinition Definition { get; }
    public ArmStrategy[] Strategies { get; }
    private readonly long _seed, _sampleSeed;
    private readonly double[] _shares;
    private readonly Dictionary<long, int> _overrides;
    private readonly ArmAssignment[] _assigned, _unlogged, _overridden;

    public LiveExperiment(ExperimentDefinition definition)
    {
        Definition = definition;
        Strategies = definition.Arms.Select(a => ArmStrategy.Parse(a.Strategy)).ToArray();
        _seed = Assignment.Seed(definition.Salt);
        _sampleSeed = Assignment.Seed(definition.Salt + "/exposure-sample");
        _shares = Assignment.CumulativeShares(definition.Arms.Select(a => a.Weight).ToArray());
        var names = definition.Arms.Select((a, i) => (a.Name, i)).ToDictionary();
        _overrides = definition.Overrides.ToDictionary(o => o.Key, o => names[o.Value]);
        // One assignment object per arm and kind, made here: the request path allocates none.
        _assigned = [.. definition.Arms.Select((_, i) => new ArmAssignment(this, i, false, true))];
        _unlogged = [.. definition.Arms.Select((_, i) => new ArmAssignment(this, i, false, false))];
        _overridden = [.. definition.Arms.Select((_, i) => new ArmAssignment(this, i, true, false))];
    }

    public string Id => Definition.Id;

    /// <summary>The user's arm by hash of (salt, user), ignoring overrides and the layer.</summary>
    public int HashedArm(long userId) => Assignment.Arm(Assignment.Unit(_seed, userId), _shares);

    /// <summary>The user's arm (an override first); null when the user is outside the experiment's part of the layer.</summary>
    public ArmAssignment? Assign(long userId, double layerPosition)
    {
        if (_overrides.TryGetValue(userId, out int forced)) return _overridden[forced];
        var d = Definition;
        if (layerPosition < d.LayerFrom || layerPosition >= d.LayerTo) return null;
        int arm = HashedArm(userId);
        bool logged = d.ExposureSample >= 1 || Assignment.Unit(_sampleSeed, userId) < d.ExposureSample;
        return logged ? _assigned[arm] : _unlogged[arm];
    }
}

/// <summary>
/// The experiments that can serve, immutable: the request path reads one reference. Assignment is a
/// pure function of (definition, user, time), so every replica and restart assigns alike.
/// </summary>
public sealed class ExperimentSet
{
    public static readonly ExperimentSet Empty = new([]);
    private static readonly long LayerSeed = Assignment.Seed(Assignment.LayerSalt);

    private readonly Dictionary<string, LiveExperiment[]> _byEndpoint;

    public IReadOnlyList<LiveExperiment> Experiments { get; }

    public ExperimentSet(IEnumerable<ExperimentDefinition> definitions)
    {
        Experiments = definitions.Select(d => new LiveExperiment(d)).ToArray();
        _byEndpoint = ExperimentDefinition.CoverableEndpoints.ToDictionary(e => e, e => Experiments.Where(x => x.Definition.Covers(e)).ToArray());
    }

    public bool IsEmpty => Experiments.Count == 0;

    public LiveExperiment? Find(string id) => Experiments.FirstOrDefault(e => e.Id == id);

    /// <summary>The user's position in the shared layer, percent in [0, 100).</summary>
    public static double LayerPosition(long userId) => Assignment.Unit(LayerSeed, userId) * 100;

    /// <summary>The experiment arm serving <paramref name="userId"/> on <paramref name="endpoint"/> now; null: the default answer.</summary>
    public ArmAssignment? Assign(string endpoint, long userId, DateTime nowUtc)
    {
        if (!_byEndpoint.TryGetValue(endpoint, out var candidates) || candidates.Length == 0) return null;
        double layer = LayerPosition(userId);
        foreach (var experiment in candidates)
        {
            if (!experiment.Definition.RunsAt(nowUtc)) continue;
            if (experiment.Assign(userId, layer) is { } assigned) return assigned;
        }
        return null;
    }
}
