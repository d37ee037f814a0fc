using RecSys.Engine.Model;
using RecSys.Engine.Recommend;
using RecSys.Server.Metadata;

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

    private TrackFields? _fields;
    private TrackFields? _previousFields;
    private TrackFields? _sortedFields;

    /// <summary>
    /// The model's tracks bound to <paramref name="catalog"/>. Bound once per catalog: the host binds
    /// a model before it serves it, and the current model again before a new catalog is published.
    /// The binding before is kept too: a request that read the catalog just before a new one was
    /// published finds its binding instead of rebuilding it (O(tracks)) on a request thread.
    /// </summary>
    public TrackFields Fields(TrackCatalog catalog)
    {
        var fields = _fields;
        if (fields is not null && ReferenceEquals(fields.Catalog, catalog)) return fields;
        var previous = _previousFields;
        if (previous is not null && ReferenceEquals(previous.Catalog, catalog)) return previous;
        var bound = new TrackFields(Model.TrackIds, catalog);
        _previousFields = fields;
        _fields = bound;
        return bound;
    }

    /// <summary>
    /// The model's track ids in ascending order, without metadata: the legacy service draws from them
    /// when there is no catalog (computed once; the host builds it before serving).
    /// </summary>
    public TrackFields SortedTracks => _sortedFields ??= new TrackFields(Model.TrackIds.Order().ToArray(), TrackCatalog.Empty);

    internal bool SortedTracksBuilt => _sortedFields is not null;

    /// <summary>How many tracks a known user has in the model's training data.</summary>
    public int InteractionCount(int user) => Model.UserItems?.RowLength(user) ?? int.MaxValue;
}
