namespace RecSys.Engine.Experiments;

/// <summary>Where experiment definitions are kept, every version of them.</summary>
public interface IExperimentStore
{
    string Description { get; }

    /// <summary>
    /// The newest version of every experiment. One whose newest version cannot be read is left out (not
    /// replaced by an older version, which might restart a stopped experiment) and named in
    /// <paramref name="problems"/> as "id: reason".
    /// </summary>
    IReadOnlyList<ExperimentDefinition> Latest(ICollection<string>? problems = null);

    /// <summary>Every version of one experiment, oldest first; empty when unknown.</summary>
    IReadOnlyList<ExperimentDefinition> History(string id);

    /// <summary>Stores <paramref name="definition"/> as the experiment's next version and returns it with that version.</summary>
    ExperimentDefinition Save(ExperimentDefinition definition);
}
