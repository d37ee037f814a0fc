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

    /// <summary>The rendered metadata fields of the i-th track (all null when the catalog does not know it).</summary>
    public ReadOnlySpan<byte> Fields(int i) =>
        Catalog.TryFind(TrackId(i), out _, out var fields) ? fields.Span : RecommendationJson.NoMetadataFields.Span;

    /// <summary>Writes the answer as the response's JSON array.</summary>
    public void WriteJson(System.Buffers.IBufferWriter<byte> output)
    {
        RecommendationJson.StartArray(output);
        for (int i = 0; i < Count; i++) RecommendationJson.WriteItem(output, i == 0, TrackId(i), Score(i), Fields(i));
        RecommendationJson.EndArray(output);
    }

    /// <summary>The same answer as response objects (for callers that want them rather than JSON).</summary>
    public TrackRecommendation[] Describe()
    {
        var result = new TrackRecommendation[Count];
        for (int i = 0; i < result.Length; i++)
        {
            long id = TrackId(i);
            result[i] = Catalog.TryFind(id, out var t, out var fields)
                ? new TrackRecommendation(id, Score(i), t.Title, t.ArtistName, t.ArtistId, t.AlbumId, t.DurationMs, t.PreviewUrl, t.CoverUrl) { RenderedFields = fields }
                : new TrackRecommendation(id, Score(i), null, null, null, null, null, null, null) { RenderedFields = RecommendationJson.NoMetadataFields };
        }
        return result;
    }
}
