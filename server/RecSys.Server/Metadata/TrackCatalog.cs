using System.Collections.Frozen;
using System.Globalization;
using System.Text;
using RecSys.Engine.Data;

namespace RecSys.Server.Metadata;

/// <summary>
/// Track metadata held in memory (a frozen dictionary), so a request never waits on the database.
/// Loaded from PostgreSQL, the demo catalog, or a Last.fm-style artists file; a track without
/// metadata is still served, with null fields.
/// </summary>
public sealed class TrackCatalog
{
    public static readonly TrackCatalog Empty = new([], "none");

    private readonly FrozenDictionary<long, TrackInfo> _tracks;

    public TrackCatalog(IEnumerable<TrackInfo> tracks, string source)
    {
        var map = new Dictionary<long, TrackInfo>();
        foreach (var t in tracks) map[t.TrackId] = t;
        _tracks = map.ToFrozenDictionary();
        Source = source;
    }

    public int Count => _tracks.Count;
    public string Source { get; }
    public IEnumerable<long> TrackIds => _tracks.Keys;

    public TrackInfo? Find(long trackId) => _tracks.GetValueOrDefault(trackId);

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
