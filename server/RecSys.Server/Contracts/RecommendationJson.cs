using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text.Json;
using RecSys.Engine.Data;

namespace RecSys.Server.Contracts;

/// <summary>
/// Writes recommendation arrays byte for byte as <see cref="JsonSerializer"/> does with
/// <see cref="ApiJsonContext.Api"/>, but each track's metadata fields are rendered (escaped, UTF-8)
/// once per catalog and copied afterwards: a response is then ids, scores and memory copies.
/// Tests compare the output with the serializer's.
/// </summary>
public static class RecommendationJson
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = ApiJsonContext.Api.Options.Encoder };
    private static readonly byte[] NoMetadata = RenderFields(null, null, null, null, null, null, null, new ArrayBufferWriter<byte>()).ToArray();

    /// <summary>The fields of a track without metadata (all null).</summary>
    public static ReadOnlyMemory<byte> NoMetadataFields => NoMetadata;

    /// <summary>
    /// The fields after score of a track with this metadata, through the closing brace
    /// (<c>"title":…,"cover_url":…}</c>), into <paramref name="scratch"/>, which is reset first.
    /// </summary>
    public static ReadOnlySpan<byte> RenderFields(TrackInfo t, ArrayBufferWriter<byte> scratch) =>
        RenderFields(t.Title, t.ArtistName, t.ArtistId, t.AlbumId, t.DurationMs, t.PreviewUrl, t.CoverUrl, scratch);

    private static ReadOnlySpan<byte> RenderFields(string? title, string? artistName, long? artistId, long? albumId, int? durationMs, string? previewUrl, string? coverUrl, ArrayBufferWriter<byte> scratch)
    {
        scratch.ResetWrittenCount();
        using (var w = new Utf8JsonWriter(scratch, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("title", title);
            w.WriteString("artist_name", artistName);
            WriteNullable(w, "artist_id", artistId);
            WriteNullable(w, "album_id", albumId);
            WriteNullable(w, "duration_ms", durationMs);
            w.WriteString("preview_url", previewUrl);
            w.WriteString("cover_url", coverUrl);
            w.WriteEndObject();
        }
        // Without the opening brace: track_id and score come first.
        return scratch.WrittenSpan[1..];
    }

    private static void WriteNullable(Utf8JsonWriter w, string name, long? value)
    {
        if (value is { } v) w.WriteNumber(name, v);
        else w.WriteNull(name);
    }

    /// <summary>Response objects as JSON, their fields rendered on the spot (the endpoints write <c>RankedTracks</c> instead).</summary>
    public static byte[] Serialize(TrackRecommendation[] items)
    {
        var output = new ArrayBufferWriter<byte>(8192);
        var scratch = new ArrayBufferWriter<byte>(512);
        StartArray(output);
        for (int i = 0; i < items.Length; i++)
        {
            var item = items[i];
            var fields = RenderFields(item.Title, item.ArtistName, item.ArtistId, item.AlbumId, item.DurationMs, item.PreviewUrl, item.CoverUrl, scratch);
            WriteItem(output, i == 0, item.TrackId, item.Score, fields);
        }
        EndArray(output);
        return output.WrittenSpan.ToArray();
    }

    public static void StartArray(IBufferWriter<byte> output) => Append(output, "["u8);

    public static void EndArray(IBufferWriter<byte> output) => Append(output, "]"u8);

    /// <summary>Room <see cref="FormatScore"/> needs (a float's shortest round-trip text is at most 15 bytes).</summary>
    public const int MaxScoreLength = 32;

    /// <summary>
    /// A score as the API writes it (and <see cref="ScoreJsonConverter"/> makes the serializer write
    /// it): the shortest round-trip digits, invariant culture, with ".0" appended when those digits are
    /// an integer, so every score is a JSON number with a fraction or an exponent (<c>27.0</c>, never
    /// <c>27</c>: clients that read scores as doubles, such as Dart's <c>as double</c>, refuse an
    /// integer). A non-finite score has no JSON number and is refused.
    /// </summary>
    public static int FormatScore(float score, Span<byte> destination)
    {
        if (!float.IsFinite(score)) throw new ArgumentException($"non-finite score {score}", nameof(score));
        score.TryFormat(destination, out int length, default, CultureInfo.InvariantCulture);
        if (destination[..length].IndexOfAny(".Ee"u8) < 0)
        {
            ".0"u8.CopyTo(destination[length..]);
            length += 2;
        }
        return length;
    }

    /// <summary>One array element: <c>{"track_id":…,"score":…,</c> then the rendered fields (which close the object).</summary>
    public static void WriteItem(IBufferWriter<byte> output, bool first, long trackId, float score, ReadOnlySpan<byte> fields)
    {
        if (!float.IsFinite(score)) throw new ArgumentException($"track {trackId} has a non-finite score", nameof(score));
        var span = StartItem(output, first, trackId, out int written);
        int scoreLength = FormatScore(score, span[written..]);
        EndItem(output, written + scoreLength, fields);
    }

    /// <summary>One array element whose score is already text from <see cref="FormatScore"/>.</summary>
    public static void WriteItem(IBufferWriter<byte> output, bool first, long trackId, ReadOnlySpan<byte> scoreText, ReadOnlySpan<byte> fields)
    {
        var span = StartItem(output, first, trackId, out int written);
        scoreText.CopyTo(span[written..]);
        EndItem(output, written + scoreText.Length, fields);
    }

    /// <summary><c>{"track_id":…,"score":</c>, left unadvanced in the returned span with room for the score.</summary>
    private static Span<byte> StartItem(IBufferWriter<byte> output, bool first, long trackId, out int written)
    {
        Append(output, first ? "{\"track_id\":"u8 : ",{\"track_id\":"u8);
        var span = output.GetSpan(32 + MaxScoreLength);
        Utf8Formatter.TryFormat(trackId, span, out written);
        Append(span, written, ",\"score\":"u8, out int more);
        written += more;
        return span;
    }

    private static void EndItem(IBufferWriter<byte> output, int written, ReadOnlySpan<byte> fields)
    {
        output.Advance(written);
        Append(output, ","u8);
        Append(output, fields);
    }

    private static void Append(Span<byte> span, int offset, ReadOnlySpan<byte> bytes, out int written)
    {
        bytes.CopyTo(span[offset..]);
        written = bytes.Length;
    }

    private static void Append(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(output.GetSpan(bytes.Length));
        output.Advance(bytes.Length);
    }
}
