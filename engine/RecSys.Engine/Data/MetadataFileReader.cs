using System.Globalization;
using System.Text;

namespace RecSys.Engine.Data;

/// <summary>
/// Track and artist rows read from metadata files, for <c>db import --tracks/--artists</c>.
/// <paramref name="TrackFields"/> names the track fields the file has (staging names: title,
/// artist_id, …): an import writes those and leaves the others as the table has them.
/// </summary>
public sealed record MetadataRows(List<TrackInfo> Tracks, List<(long Id, string Name)> Artists, IReadOnlySet<string> TrackFields);

/// <summary>
/// Reads metadata files with a header line naming their columns, tab- or comma-separated (the header
/// decides; comma-separated fields may be double-quoted as in RFC 4180): a tracks file (<c>track_id</c>,
/// and any of <c>title, artist_id, artist_name, album_id, duration_ms, preview_url, cover_url</c>), an
/// artists file (<c>artist_id, name</c>), or Last.fm HetRec's <c>artists.dat</c> (<c>id name url
/// pictureURL</c>), whose artists are also the "tracks" of a model trained on user_artists.dat.
/// Comma-separated fields may be quoted, but a field does not span lines.
/// Every problem names the file, line and column; an unknown column is an error, not ignored.
/// </summary>
public static class MetadataFileReader
{
    private static readonly string[] TrackColumns = ["track_id", "title", "artist_id", "artist_name", "album_id", "duration_ms", "preview_url", "cover_url"];
    private static readonly string[] LastFmArtists = ["id", "name", "url", "pictureurl"];

    public static MetadataRows ReadTracks(string path)
    {
        var (header, rows, separator) = Open(path);
        int[] at = Columns(path, header, TrackColumns, aliases: new() { ["id"] = "track_id" }, required: ["track_id"]);
        var tracks = new List<TrackInfo>();
        var artists = new List<(long, string)>();
        foreach (var (line, text) in rows)
        {
            var f = Split(path, line, text, separator, header.Length);
            string? Get(int column) => at[column] < 0 || f[at[column]].Length == 0 ? null : f[at[column]];
            long id = ParseId(path, line, text, "track_id", Get(0));
            long? artistId = Get(2) is { } a ? ParseId(path, line, text, "artist_id", a) : null;
            string? artistName = Get(3);
            if (artistName is not null)
            {
                if (artistId is not { } aid) throw new DataFormatException(path, line, "column 'artist_name' needs an 'artist_id' to name", text);
                artists.Add((aid, artistName));
            }
            tracks.Add(new TrackInfo(id, Get(1), artistId, artistName,
                Get(4) is { } album ? ParseId(path, line, text, "album_id", album) : null,
                Get(5) is { } d ? ParseDuration(path, line, text, d) : null,
                Get(6), Get(7)));
        }
        var given = TrackColumns.Where((name, k) => at[k] >= 0 && name != "artist_name").ToHashSet();
        return new MetadataRows(tracks, artists, given);
    }

    /// <summary>An artists file; Last.fm's artists.dat also gives each artist as a track (title = name, cover = picture, preview = page url).</summary>
    public static MetadataRows ReadArtists(string path)
    {
        var (header, rows, separator) = Open(path);
        bool lastFm = header.Length == LastFmArtists.Length && header.Select(h => h.ToLowerInvariant()).SequenceEqual(LastFmArtists);
        int[] at = lastFm ? [0, 1, 2, 3] : Columns(path, header, ["artist_id", "name"], aliases: new() { ["id"] = "artist_id" }, required: ["artist_id", "name"]);
        var tracks = new List<TrackInfo>();
        var artists = new List<(long, string)>();
        foreach (var (line, text) in rows)
        {
            var f = Split(path, line, text, separator, header.Length);
            long id = ParseId(path, line, text, "artist_id", f[at[0]]);
            string name = f[at[1]].Length > 0 ? f[at[1]] : throw new DataFormatException(path, line, "column 'name' is empty", text);
            artists.Add((id, name));
            if (lastFm)
            {
                tracks.Add(new TrackInfo(id, name, id, name, null, null, f[at[2]].Length > 0 ? f[at[2]] : null, f[at[3]].Length > 0 ? f[at[3]] : null));
            }
        }
        return new MetadataRows(tracks, artists, lastFm ? new HashSet<string> { "title", "artist_id", "preview_url", "cover_url" } : new HashSet<string>());
    }

    private static (string[] Header, IEnumerable<(long Line, string Text)> Rows, char Separator) Open(string path)
    {
        using var reader = new StreamReader(path, Encoding.UTF8);
        string? first = reader.ReadLine();
        if (first is null) throw new DataFormatException($"{path}: the file is empty (a header line naming the columns is expected)");
        char separator = first.Contains('\t', StringComparison.Ordinal) ? '\t' : ',';
        string[] header = Split(path, 1, first.TrimStart('\uFEFF'), separator, -1).Select(h => h.Trim()).ToArray();
        return (header, Rows(path), separator);
    }

    private static IEnumerable<(long, string)> Rows(string path)
    {
        long line = 0;
        foreach (string text in File.ReadLines(path, Encoding.UTF8))
        {
            line++;
            if (line == 1 || text.Length == 0) continue;
            yield return (line, text);
        }
    }

    private static int[] Columns(string path, string[] header, string[] known, Dictionary<string, string> aliases, string[] required)
    {
        int[] at = Enumerable.Repeat(-1, known.Length).ToArray();
        for (int i = 0; i < header.Length; i++)
        {
            string name = header[i].ToLowerInvariant();
            name = aliases.GetValueOrDefault(name, name);
            int k = Array.IndexOf(known, name);
            if (k < 0) throw new DataFormatException(path, 1, $"unknown column '{header[i]}' (known: {string.Join(", ", known)})", string.Join(",", header));
            if (at[k] >= 0) throw new DataFormatException(path, 1, $"column '{header[i]}' appears twice", string.Join(",", header));
            at[k] = i;
        }
        foreach (string name in required)
        {
            if (at[Array.IndexOf(known, name)] < 0) throw new DataFormatException(path, 1, $"no '{name}' column", string.Join(",", header));
        }
        return at;
    }

    /// <summary>Splits a line; <paramref name="expected"/> fields unless negative. Comma-separated fields may be quoted.</summary>
    private static string[] Split(string path, long line, string text, char separator, int expected)
    {
        var fields = new List<string>();
        if (separator == '\t') fields.AddRange(text.Split('\t'));
        else
        {
            var field = new StringBuilder();
            bool quoted = false;
            for (int i = 0; i < text.Length; i++)
            {
                char c = text[i];
                if (quoted)
                {
                    if (c == '"' && i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                    else if (c == '"') quoted = false;
                    else field.Append(c);
                }
                else if (c == '"' && field.Length == 0) quoted = true;
                else if (c == ',') { fields.Add(field.ToString()); field.Clear(); }
                else field.Append(c);
            }
            if (quoted) throw new DataFormatException(path, line, "a quoted field is not closed", text);
            fields.Add(field.ToString());
        }
        if (expected >= 0 && fields.Count != expected)
        {
            throw new DataFormatException(path, line, $"expected {expected} fields as the header names, found {fields.Count}", text);
        }
        return fields.ToArray();
    }

    private static long ParseId(string path, long line, string text, string column, string? value) =>
        long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long id) && id >= 0
            ? id
            : throw new DataFormatException(path, line, $"column '{column}' must be a non-negative integer id, got '{value}'", text);

    private static int ParseDuration(string path, long line, string text, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int ms)
            ? ms
            : throw new DataFormatException(path, line, $"column 'duration_ms' must be a non-negative integer, got '{value}'", text);
}
