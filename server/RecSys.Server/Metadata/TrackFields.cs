using System.Buffers;
using RecSys.Engine.Ann;
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
        for (int i = 0; i < trackIds.Length; i++)
        {
            _slots[i] = catalog.Slot(trackIds[i]);
            if (_slots[i] < 0) WithoutMetadata++;
        }
    }

    public long[] TrackIds { get; }
    public TrackCatalog Catalog { get; }

    /// <summary>How many of <see cref="TrackIds"/> the catalog has no metadata for.</summary>
    public int WithoutMetadata { get; }

    /// <summary>
    /// Tracks written without metadata, counted in stripes a cache line apart (by thread), so answers
    /// written on several cores do not contend for one counter; summed when /metrics is read.
    /// </summary>
    private static readonly long[] s_servedWithoutMetadata = new long[Stripes * StripeStride];
    private const int Stripes = 16;
    private const int StripeStride = 8;

    /// <summary>Tracks written into answers without metadata since the process started (exported at /metrics).</summary>
    public static long ServedWithoutMetadata
    {
        get
        {
            long sum = 0;
            for (int i = 0; i < Stripes; i++) sum += Interlocked.Read(ref s_servedWithoutMetadata[i * StripeStride]);
            return sum;
        }
    }

    [ThreadStatic] private static ArrayBufferWriter<byte>? t_encoded;

    /// <summary>
    /// Writes a ranking (indexes into <see cref="TrackIds"/>) as the response's JSON array: its scores
    /// are formatted once into this thread's buffer, as the response cache keeps them, and written
    /// from there (one writer for computed and cached answers).
    /// </summary>
    public void WriteJson(IBufferWriter<byte> output, ReadOnlySpan<ScoredIndex> ranked)
    {
        var encoded = t_encoded ??= new ArrayBufferWriter<byte>(4096);
        encoded.ResetWrittenCount();
        CachedRanking.Encode(ranked, encoded);
        WriteJson(output, encoded.WrittenSpan);
    }

    /// <summary>
    /// Writes an encoded ranking (<see cref="CachedRanking"/>: indexes into <see cref="TrackIds"/>
    /// with their scores already as text) as the response's JSON array. Ids and slots of a batch are
    /// read first and its fields preloaded, so the memory misses of a large catalog overlap
    /// (ResponseJsonBenchmarks measures the difference).
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
        int missing = 0;
        while (position < cachedRanking.Length)
        {
            int count = 0;
            for (; count < Batch && position < cachedRanking.Length; count++)
            {
                int item = CachedRanking.Next(cachedRanking, ref position, out scoreStarts[count], out scoreLengths[count]);
                ids[count] = TrackIds[item];
                slots[count] = _slots[item];
                if (slots[count] < 0) missing++;
            }
            Catalog.Preload(slots[..count]);
            for (int i = 0; i < count; i++)
            {
                RecommendationJson.WriteItem(output, first, ids[i], cachedRanking.Slice(scoreStarts[i], scoreLengths[i]), Catalog.Fields(slots[i]));
                first = false;
            }
        }
        RecommendationJson.EndArray(output);
        if (missing > 0) Interlocked.Add(ref s_servedWithoutMetadata[Environment.CurrentManagedThreadId % Stripes * StripeStride], missing);
    }
}
