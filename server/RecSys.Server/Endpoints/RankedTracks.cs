using RecSys.Engine.Ann;
using RecSys.Engine.Recommend;
using RecSys.Server.Contracts;
using RecSys.Server.Metadata;

namespace RecSys.Server.Endpoints;

/// <summary>
/// An answer before it becomes JSON: ranked indexes into the track ids of <see cref="Tracks"/>,
/// which also know the catalog that describes them. The endpoints write it straight to the response
/// (<see cref="TrackFields.WriteJson"/>), so a request allocates no per-track objects.
/// </summary>
public readonly record struct RankedTracks(ScoredIndex[] Ranked, TrackFields Tracks)
{
    public static readonly RankedTracks Empty = new([], TrackFields.Empty);

    /// <summary>An answer over track ids not bound to the catalog yet (binds them: for tests and one-off callers).</summary>
    public RankedTracks(ScoredIndex[] ranked, long[] trackIds, TrackCatalog catalog) : this(ranked, new TrackFields(trackIds, catalog))
    {
    }

    public int Count => Ranked.Length;

    public TrackCatalog Catalog => Tracks.Catalog;

    public long TrackId(int i) => Tracks.TrackIds[Ranked[i].Index];

    public float Score(int i) => Ranked[i].Score;

    /// <summary>Writes the answer as the response's JSON array.</summary>
    public void WriteJson(System.Buffers.IBufferWriter<byte> output) => Tracks.WriteJson(output, Ranked);

    /// <summary>The same answer as response objects (for callers that want them rather than JSON).</summary>
    public TrackRecommendation[] Describe()
    {
        var result = new TrackRecommendation[Count];
        for (int i = 0; i < result.Length; i++)
        {
            long id = TrackId(i);
            var t = Catalog.Find(id);
            result[i] = new TrackRecommendation(id, Score(i), t?.Title, t?.ArtistName, t?.ArtistId, t?.AlbumId, t?.DurationMs, t?.PreviewUrl, t?.CoverUrl);
        }
        return result;
    }
}
