namespace RecSys.Engine.Experiments;

/// <summary>
/// One answer an experiment's user was shown: its recommendation id (the X-Recommendation-Id header),
/// the arm, the tracks in order (position = index) and each track's duration in ms (0 when the catalog
/// has none), so listening time can be computed later without the catalog of that moment.
/// </summary>
public sealed record Exposure(Guid RecommendationId, string Experiment, string Arm, long UserId, DateTime ShownAtUtc, long[] Tracks, int[] DurationsMs)
{
    /// <summary>The most tracks one exposure keeps (a longer answer keeps its first ones).</summary>
    public const int MaxTracks = 1000;
}

/// <summary>Where exposures are kept: the embedded log or a PostgreSQL table.</summary>
public interface IExposureStore : IDisposable
{
    string Description { get; }

    /// <summary>Stores the batch durably before returning.</summary>
    void Append(IReadOnlyList<Exposure> batch);

    /// <summary>Every stored exposure of the experiment.</summary>
    IEnumerable<Exposure> Read(string experiment);
}

/// <summary>Where experiment definitions are kept, every version of them.</summary>
public interface IExperimentStore
{
    string Description { get; }

    /// <summary>The newest version of every experiment.</summary>
    IReadOnlyList<ExperimentDefinition> Latest();

    /// <summary>Every version of one experiment, oldest first; empty when unknown.</summary>
    IReadOnlyList<ExperimentDefinition> History(string id);

    /// <summary>Stores <paramref name="definition"/> as the experiment's next version and returns it with that version.</summary>
    ExperimentDefinition Save(ExperimentDefinition definition);
}
