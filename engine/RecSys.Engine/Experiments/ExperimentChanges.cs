namespace RecSys.Engine.Experiments;

/// <summary>
/// The rules a new version of an experiment must pass before it is stored (the admin API, <c>recsys ab</c>
/// and the configuration file all go through here): valid, its model versions exist, it shares no user
/// with another experiment that has not stopped, and its assignment never changes under its id.
/// </summary>
public static class ExperimentChanges
{
    /// <summary>Checks and stores <paramref name="definition"/>; throws <see cref="ArgumentException"/> listing every problem.</summary>
    public static ExperimentDefinition Save(IExperimentStore store, ExperimentDefinition definition, DateTime nowUtc, Func<string, bool> modelVersionExists, string modelStore)
    {
        var earlier = store.History(definition.Id);
        // Defaults first, so the checks see what is stored.
        definition = definition with
        {
            CreatedUtc = earlier.Count > 0 ? earlier[0].CreatedUtc : nowUtc,
            StartUtc = definition.StartUtc ?? (earlier.Count > 0 ? earlier[^1].StartUtc ?? earlier[0].CreatedUtc : nowUtc),
        };
        var problems = definition.Validate();
        foreach (var arm in definition.Arms)
        {
            if (ArmStrategy.TryParse(arm.Strategy, out var strategy) is null && strategy.Kind == ArmStrategy.Kinds.Model && !modelVersionExists(strategy.ModelVersion!))
            {
                problems.Add($"arm {arm.Name}: model version {strategy.ModelVersion} is not in the model store {modelStore} (see 'recsys model list')");
            }
        }
        if (earlier.Count > 0 && earlier[^1] is var last && (last.Salt != definition.Salt || !last.Arms.SequenceEqual(definition.Arms)))
        {
            problems.Add($"experiment {definition.Id}'s salt, arms and weights cannot change (its users would move between arms and its report would mix " +
                "two assignments): start a new experiment with a new id");
        }
        if (definition.StopUtc is not { } own || own > nowUtc)
        {
            foreach (var other in store.Latest())
            {
                if (other.Id == definition.Id || other.StopUtc is { } stop && stop <= nowUtc || !definition.Overlaps(other)) continue;
                problems.Add($"experiment {other.Id} already covers {string.Join(", ", definition.Endpoints.Intersect(other.Endpoints))} for layer " +
                    $"{other.LayerFrom}..{other.LayerTo} in the same time: give this one a disjoint layer range or stop {other.Id}");
            }
        }
        if (problems.Count > 0) throw new ArgumentException(string.Join("; ", problems));
        return store.Save(definition);
    }

    /// <summary>Stores a version of the experiment that stops now (its last version when it has stopped already); null when there is no such experiment.</summary>
    public static ExperimentDefinition? StopNow(IExperimentStore store, string id, DateTime nowUtc)
    {
        var history = store.History(id);
        if (history.Count == 0) return null;
        var last = history[^1];
        if (last.StopUtc is { } stop && stop <= nowUtc) return last;
        return store.Save(last with { StopUtc = nowUtc });
    }
}
