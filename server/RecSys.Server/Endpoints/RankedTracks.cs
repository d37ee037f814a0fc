using RecSys.Engine.Recommend;
using RecSys.Server.Contracts;
using RecSys.Server.Metadata;

namespace RecSys.Server.Endpoints;

/// <summary>
/// An answer before it becomes JSON: ranked indexes into <see cref="TrackIds"/> and the catalog that
/// describes them. The endpoints write it straight to the response (<see cref="RecommendationJson"/>),
/// so a request allocates no per-track objects.
/// </summary>
public readonly record struct RankedTracks(ScoredIndex[] Ranked, long[] TrackIds, TrackCatalog Catalog)
{
    public static readonly RankedTracks Empty = new([], [], TrackCatalog.Empty);

    public int Count => Ranked.Length;

    public long TrackId(int i) => TrackIds[Ranked[i].Index];

    public float Score(int i) => Ranked[i].Score;

    /// <summary>Writes the answer as the response's JSON array.</summary>
    public void WriteJson(System.Buffers.IBufferWriter<byte> output) => WriteJson(output, Ranked, TrackIds, Catalog);

    /// <summary>Writes a ranking (indexes into <paramref name="trackIds"/>) as the response's JSON array.</summary>
    public static void WriteJson(System.Buffers.IBufferWriter<byte> output, ReadOnlySpan<ScoredIndex> ranked, long[] trackIds, TrackCatalog catalog)
    {
        RecommendationJson.StartArray(output);
        for (int i = 0; i < ranked.Length; i++)
        {
            long id = trackIds[ranked[i].Index];
            RecommendationJson.WriteItem(output, i == 0, id, ranked[i].Score, catalog.JsonFields(id));
        }
        RecommendationJson.EndArray(output);
    }

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
