using RecSys.Engine.Model;
using RecSys.Engine.Recommend;

namespace RecSys.Server.Hosting;

/// <summary>
/// One loaded model version with everything a request needs, immutable. The host swaps the whole
/// object at once, so a request that captured it finishes on it even while a reload happens.
/// </summary>
public sealed class ServingModel(string version, ModelManifest? manifest, RecModel model, Recommender recommender, DateTime loadedAtUtc)
{
    public string Version { get; } = version;
    public ModelManifest? Manifest { get; } = manifest;
    public RecModel Model { get; } = model;
    public Recommender Recommender { get; } = recommender;
    public DateTime LoadedAtUtc { get; } = loadedAtUtc;

    private long[]? _sortedTrackIds;

    /// <summary>The model's track ids in ascending order (computed once; the legacy service draws from them).</summary>
    public long[] SortedTrackIds => _sortedTrackIds ??= Model.TrackIds.Order().ToArray();

    /// <summary>How many tracks a known user has in the model's training data.</summary>
    public int InteractionCount(int user) => Model.UserItems?.RowLength(user) ?? int.MaxValue;
}
