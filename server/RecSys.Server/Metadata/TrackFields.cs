using System.Buffers;
using RecSys.Engine.Recommend;
using RecSys.Server.Contracts;

namespace RecSys.Server.Metadata;

/// <summary>
/// A list of track ids (a model's tracks, or the legacy pool) bound to a catalog: where the catalog
/// keeps each one is looked up once, when a model or catalog is loaded, not on every request.
/// </summary>
public sealed class TrackFields
{
    public static readonly TrackFields Empty = new([], TrackCatalog.Empty);

    /// <summary>Tracks written per round of <see cref="TrackCatalog.Preload"/>.</summary>
    private const int Batch = TrackCatalog.MaxPreload / 2;

    private readonly int[] _slots;

    public TrackFields(long[] trackIds, TrackCatalog catalog)
    {
        TrackIds = trackIds;
        Catalog = catalog;
        _slots = new int[trackIds.Length];
        for (int i = 0; i < trackIds.Length; i++) _slots[i] = catalog.Slot(trackIds[i]);
    }

    public long[] TrackIds { get; }
    public TrackCatalog Catalog { get; }

    /// <summary>
    /// Writes a ranking (indexes into <see cref="TrackIds"/>) as the response's JSON array. Ids and
    /// slots of a batch are read first and its fields preloaded, so the memory misses of a large
    /// catalog overlap (ResponseJsonBenchmarks measures the difference).
    /// </summary>
    public void WriteJson(IBufferWriter<byte> output, ReadOnlySpan<ScoredIndex> ranked)
    {
        Span<long> ids = stackalloc long[Batch];
        Span<int> slots = stackalloc int[Batch];
        RecommendationJson.StartArray(output);
        for (int start = 0; start < ranked.Length; start += Batch)
        {
            var batch = ranked.Slice(start, Math.Min(Batch, ranked.Length - start));
            for (int i = 0; i < batch.Length; i++)
            {
                int item = batch[i].Index;
                ids[i] = TrackIds[item];
                slots[i] = _slots[item];
            }
            Catalog.Preload(slots[..batch.Length]);
            for (int i = 0; i < batch.Length; i++)
            {
                RecommendationJson.WriteItem(output, start + i == 0, ids[i], batch[i].Score, Catalog.Fields(slots[i]));
            }
        }
        RecommendationJson.EndArray(output);
    }

    /// <summary>
    /// Writes a ranking kept by the response cache (<see cref="CachedRanking"/>: indexes into
    /// <see cref="TrackIds"/> with their scores already as text), byte for byte what
    /// <see cref="WriteJson(IBufferWriter{byte}, ReadOnlySpan{ScoredIndex})"/> writes for it.
    /// </summary>
    public void WriteJson(IBufferWriter<byte> output, ReadOnlySpan<byte> cachedRanking)
    {
        Span<long> ids = stackalloc long[Batch];
        Span<int> slots = stackalloc int[Batch];
        Span<int> scoreStarts = stackalloc int[Batch];
        Span<int> scoreLengths = stackalloc int[Batch];
        RecommendationJson.StartArray(output);
        int position = 0;
        bool first = true;
        while (position < cachedRanking.Length)
        {
            int count = 0;
            for (; count < Batch && position < cachedRanking.Length; count++)
            {
                int item = CachedRanking.Next(cachedRanking, ref position, out scoreStarts[count], out scoreLengths[count]);
                ids[count] = TrackIds[item];
                slots[count] = _slots[item];
            }
            Catalog.Preload(slots[..count]);
            for (int i = 0; i < count; i++)
            {
                RecommendationJson.WriteItem(output, first, ids[i], cachedRanking.Slice(scoreStarts[i], scoreLengths[i]), Catalog.Fields(slots[i]));
                first = false;
            }
        }
        RecommendationJson.EndArray(output);
    }
}
