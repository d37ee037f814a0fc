namespace RecSys.Engine.Experiments;

/// <summary>Where exposures are kept: the embedded log or a PostgreSQL table.</summary>
public interface IExposureStore : IDisposable
{
    string Description { get; }

    /// <summary>Stores the batch durably before returning.</summary>
    void Append(IReadOnlyList<Exposure> batch);

    /// <summary>Every stored exposure of the experiment.</summary>
    IEnumerable<Exposure> Read(string experiment);
}
