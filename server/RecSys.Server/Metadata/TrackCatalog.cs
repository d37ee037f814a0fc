using System.Collections.Frozen;
using System.Globalization;
using System.Text;
using RecSys.Engine.Data;
using RecSys.Server.Contracts;

namespace RecSys.Server.Metadata;

/// <summary>
/// Track metadata held in memory (a frozen dictionary), so a request never waits on the database.
/// Loaded from PostgreSQL, the demo catalog, or a Last.fm-style artists file; a track without
/// metadata is still served, with null fields.
/// </summary>
public sealed class TrackCatalog
{
    public static readonly TrackCatalog Empty = new([], "none");

    /// <summary>Rendered fields are packed into segments of this size (few large arrays, nothing for the GC to trace).</summary>
    private const int SegmentBytes = 64 << 20;

    private readonly FrozenDictionary<long, int> _index;
    private readonly TrackInfo[] _infos;
    private readonly byte[][] _segments;
    private readonly FieldsAt[] _at;
    private TrackFields? _sortedFields;
    [ThreadStatic] private static int t_preloaded;

    /// <summary>Where a track's rendered fields lie: segment, offset, length.</summary>
    private readonly record struct FieldsAt(int Segment, int Offset, int Length);

    public TrackCatalog(IEnumerable<TrackInfo> tracks, string source)
    {
        var map = new Dictionary<long, int>();
        var infos = new List<TrackInfo>();
        foreach (var t in tracks)
        {
            if (map.TryGetValue(t.TrackId, out int at)) infos[at] = t;
            else
            {
                map[t.TrackId] = infos.Count;
                infos.Add(t);
            }
        }
        _index = map.ToFrozenDictionary();
        _infos = infos.ToArray();
        (_segments, _at) = Render(_infos);
        Source = source;
    }

    public int Count => _infos.Length;
    public string Source { get; }

    /// <summary>What the source looked like when this catalog was read (see <see cref="CatalogService"/>); null when unknown.</summary>
    public string? ChangeToken { get; init; }
    public IEnumerable<long> TrackIds => _index.Keys;

    /// <summary>The catalog's tracks in ascending id order, bound to their fields (computed once; the legacy service draws from them; the model host builds it before publishing the catalog).</summary>
    public TrackFields SortedFields => _sortedFields ??= new TrackFields(_index.Keys.Order().ToArray(), this);

    internal bool SortedFieldsBuilt => _sortedFields is not null;

    public TrackInfo? Find(long trackId) => _index.TryGetValue(trackId, out int i) ? _infos[i] : null;

    /// <summary>Where the catalog keeps a track (for <see cref="Fields"/>); -1 when it does not know it.</summary>
    public int Slot(long trackId) => _index.TryGetValue(trackId, out int i) ? i : -1;

    /// <summary>
    /// A track's response fields as <see cref="RecommendationJson"/> writes them (rendered once, when
    /// the catalog is loaded, so requests only copy bytes); all null for a track the catalog does not know.
    /// </summary>
    public ReadOnlySpan<byte> JsonFields(long trackId) => Fields(Slot(trackId));

    /// <summary>The fields of the track at <paramref name="slot"/> (see <see cref="Slot"/>); all null for -1.</summary>
    public ReadOnlySpan<byte> Fields(int slot)
    {
        if (slot < 0) return RecommendationJson.NoMetadataFields.Span;
        var at = _at[slot];
        return _segments[at.Segment].AsSpan(at.Offset, at.Length);
    }

    /// <summary>Most slots <see cref="Preload"/> takes at once.</summary>
    public const int MaxPreload = 64;

    /// <summary>
    /// Reads one byte of every cache line of these tracks' fields (at most <see cref="MaxPreload"/>).
    /// The reads of all tracks are independent, so on a catalog larger than the CPU caches their
    /// misses overlap here instead of stalling one copy after another when the response is written.
    /// </summary>
    public void Preload(ReadOnlySpan<int> slots)
    {
        const int CacheLine = 64;
        ArgumentOutOfRangeException.ThrowIfGreaterThan(slots.Length, MaxPreload);
        Span<FieldsAt> at = stackalloc FieldsAt[slots.Length];
        for (int i = 0; i < slots.Length; i++) at[i] = slots[i] < 0 ? default : _at[slots[i]];
        int touched = 0;
        foreach (var place in at)
        {
            if (place.Length == 0) continue;
            var fields = _segments[place.Segment].AsSpan(place.Offset, place.Length);
            for (int b = 0; b < fields.Length; b += CacheLine) touched += fields[b];
            touched += fields[^1];
        }
        // Kept (per thread: a shared field would bounce between cores) so the reads are not optimised away.
        t_preloaded = touched;
    }

    private static (byte[][] Segments, FieldsAt[] At) Render(TrackInfo[] infos)
    {
        var at = new FieldsAt[infos.Length];
        var segments = new List<byte[]>();
        var scratch = new System.Buffers.ArrayBufferWriter<byte>(1024);
        byte[] segment = [];
        int used = 0;
        for (int i = 0; i < infos.Length; i++)
        {
            var rendered = RecommendationJson.RenderFields(infos[i], scratch);
            if (used + rendered.Length > segment.Length)
            {
                segment = new byte[Math.Max(rendered.Length, (int)Math.Min(SegmentBytes, Math.Max(4096L, (long)(infos.Length - i) * (rendered.Length + 16))))];
                segments.Add(segment);
                used = 0;
            }
            rendered.CopyTo(segment.AsSpan(used));
            at[i] = new FieldsAt(segments.Count - 1, used, rendered.Length);
            used += rendered.Length;
        }
        return (segments.ToArray(), at);
    }

    public static TrackCatalog FromDemo(DemoCatalog demo) => new(demo.Tracks, $"demo(seed={demo.Options.Seed})");

    /// <summary>The mapped tracks and artists tables (<see cref="PostgresMapping"/>).</summary>
    public static async Task<TrackCatalog> FromPostgresAsync(string connectionString, PostgresMapping mapping, CancellationToken ct)
    {
        var rows = await new PostgresTrackSource(connectionString, mapping).ReadTracksAsync(ct);
        return new(rows.Tracks, rows.SkippedRows > 0 ? $"{rows.Source} ({rows.SkippedRows} rows with a NULL id skipped)" : rows.Source)
        {
            ChangeToken = rows.ChangeToken,
        };
    }

    /// <summary>
    /// Last.fm HetRec artists.dat ("id name url pictureURL", tab separated, header): the "tracks" of a
    /// model trained on user_artists.dat are artists, so the artist is both title and artist.
    /// </summary>
    public static TrackCatalog FromArtistsFile(string path)
    {
        string token = FileChangeToken(path);
        var tracks = new List<TrackInfo>();
        int line = 0;
        foreach (string text in File.ReadLines(path, Encoding.UTF8))
        {
            line++;
            if (line == 1 || text.Length == 0) continue;
            string[] f = text.Split('\t');
            if (f.Length < 2 || !long.TryParse(f[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out long id))
            {
                throw new DataFormatException(path, line, "expected 'id<TAB>name[<TAB>url<TAB>pictureURL]'", text);
            }
            string? picture = f.Length > 3 && f[3].Length > 0 ? f[3] : null;
            string? url = f.Length > 2 && f[2].Length > 0 ? f[2] : null;
            tracks.Add(new TrackInfo(id, f[1], id, f[1], null, null, url, picture));
        }
        return new TrackCatalog(tracks, path) { ChangeToken = token };
    }

    /// <summary>A metadata file's change token: its length and last write time.</summary>
    public static string FileChangeToken(string path)
    {
        var info = new FileInfo(path);
        return $"{info.Length}/{info.LastWriteTimeUtc.Ticks}";
    }
}
