namespace RecSys.Engine.Experiments;

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

    /// <summary>The arm a QA override sends the user to, or null.</summary>
    public ArmAssignment? Override(long userId) => _overrides.TryGetValue(userId, out int forced) ? _overridden[forced] : null;

    /// <summary>The user's arm by hash; null when the user is outside the experiment's part of the layer.</summary>
    public ArmAssignment? Assign(long userId, double layerPosition)
    {
        var d = Definition;
        if (layerPosition < d.LayerFrom || layerPosition >= d.LayerTo) return null;
        int arm = HashedArm(userId);
        bool logged = d.ExposureSample >= 1 || Assignment.Unit(_sampleSeed, userId) < d.ExposureSample;
        return logged ? _assigned[arm] : _unlogged[arm];
    }
}
