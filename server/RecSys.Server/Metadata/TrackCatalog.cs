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
    private readonly ReadOnlyMemory<byte>[] _fields;
    private long[]? _sortedIds;

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
        _fields = Render(_infos);
        Source = source;
    }

    public int Count => _infos.Length;
    public string Source { get; }
    public IEnumerable<long> TrackIds => _index.Keys;

    /// <summary>Every track id in ascending order (computed once).</summary>
    public long[] SortedTrackIds => _sortedIds ??= _index.Keys.Order().ToArray();

    public TrackInfo? Find(long trackId) => _index.TryGetValue(trackId, out int i) ? _infos[i] : null;

    /// <summary>
    /// A track's response fields as <see cref="RecommendationJson"/> writes them (rendered once, when
    /// the catalog is loaded, so requests only copy bytes); all null for a track the catalog does not know.
    /// </summary>
    public ReadOnlySpan<byte> JsonFields(long trackId) =>
        _index.TryGetValue(trackId, out int i) ? _fields[i].Span : RecommendationJson.NoMetadataFields.Span;

    private static ReadOnlyMemory<byte>[] Render(TrackInfo[] infos)
    {
        var fields = new ReadOnlyMemory<byte>[infos.Length];
        var scratch = new System.Buffers.ArrayBufferWriter<byte>(1024);
        byte[] segment = [];
        int used = 0;
        for (int i = 0; i < infos.Length; i++)
        {
            var rendered = RecommendationJson.RenderFields(infos[i], scratch);
            if (used + rendered.Length > segment.Length)
            {
                segment = new byte[Math.Max(rendered.Length, (int)Math.Min(SegmentBytes, Math.Max(4096L, (long)(infos.Length - i) * (rendered.Length + 16))))];
                used = 0;
            }
            rendered.CopyTo(segment.AsSpan(used));
            fields[i] = segment.AsMemory(used, rendered.Length);
            used += rendered.Length;
        }
        return fields;
    }

    public static TrackCatalog FromDemo(DemoCatalog demo) => new(demo.Tracks, $"demo(seed={demo.Options.Seed})");

    public static async Task<TrackCatalog> FromPostgresAsync(string connectionString, CancellationToken ct) =>
        new(await new PostgresInteractionSource(connectionString).ReadTracksAsync(ct), "postgres");

    /// <summary>
    /// Last.fm HetRec artists.dat ("id name url pictureURL", tab separated, header): the "tracks" of a
    /// model trained on user_artists.dat are artists, so the artist is both title and artist.
    /// </summary>
    public static TrackCatalog FromArtistsFile(string path)
    {
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
        return new TrackCatalog(tracks, path);
    }
}
