namespace RecSys.Engine.Experiments;

/// <summary>
/// The experiments that can serve, immutable: the request path reads one reference. Assignment is a
/// pure function of (definition, user, time), so every replica and restart assigns alike.
/// </summary>
public sealed class ExperimentSet
{
    public static readonly ExperimentSet Empty = new([]);
    private static readonly long LayerSeed = Assignment.Seed(Assignment.LayerSalt);

    private readonly Dictionary<string, LiveExperiment[]> _byEndpoint;
    private readonly bool _anyOverrides;

    public IReadOnlyList<LiveExperiment> Experiments { get; }

    public ExperimentSet(IEnumerable<ExperimentDefinition> definitions)
    {
        Experiments = definitions.Select(d => new LiveExperiment(d)).ToArray();
        _byEndpoint = ExperimentDefinition.CoverableEndpoints.ToDictionary(e => e, e => Experiments.Where(x => x.Definition.Covers(e)).ToArray());
        _anyOverrides = Experiments.Any(e => e.Definition.Overrides.Count > 0);
    }

    public bool IsEmpty => Experiments.Count == 0;

    public LiveExperiment? Find(string id) => Experiments.FirstOrDefault(e => e.Id == id);

    /// <summary>The user's position in the shared layer, percent in [0, 100).</summary>
    public static double LayerPosition(long userId) => Assignment.Unit(LayerSeed, userId) * 100;

    /// <summary>The experiment arm serving <paramref name="userId"/> on <paramref name="endpoint"/> now; null: the default answer.</summary>
    public ArmAssignment? Assign(string endpoint, long userId, DateTime nowUtc)
    {
        if (!_byEndpoint.TryGetValue(endpoint, out var candidates) || candidates.Length == 0) return null;
        // QA overrides first, whichever experiment holds them: the layer would otherwise pick another one.
        if (_anyOverrides)
        {
            foreach (var experiment in candidates)
            {
                if (experiment.Definition.RunsAt(nowUtc) && experiment.Override(userId) is { } forced) return forced;
            }
        }
        double layer = LayerPosition(userId);
        foreach (var experiment in candidates)
        {
            if (!experiment.Definition.RunsAt(nowUtc)) continue;
            if (experiment.Assign(userId, layer) is { } assigned) return assigned;
        }
        return null;
    }
}
