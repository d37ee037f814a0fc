using System.Text.Json;
using System.Text.Json.Serialization;

namespace RecSys.Server.Contracts;

/// <summary>One recommended track, the original design's response item. Missing metadata is null, never omitted.</summary>
public sealed record TrackRecommendation(
    [property: JsonPropertyName("track_id")] long TrackId,
    [property: JsonPropertyName("score"), JsonConverter(typeof(ScoreJsonConverter))] float Score,
    [property: JsonPropertyName("title")] string? Title,
    [property: JsonPropertyName("artist_name")] string? ArtistName,
    [property: JsonPropertyName("artist_id")] long? ArtistId,
    [property: JsonPropertyName("album_id")] long? AlbumId,
    [property: JsonPropertyName("duration_ms")] int? DurationMs,
    [property: JsonPropertyName("preview_url")] string? PreviewUrl,
    [property: JsonPropertyName("cover_url")] string? CoverUrl);

/// <summary>Source-generated serialisation for the hot endpoints (no reflection per request).</summary>
[JsonSerializable(typeof(TrackRecommendation[]))]
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
public sealed partial class ApiJsonContext : JsonSerializerContext
{
    /// <summary>
    /// The context the API writes with: URLs and titles keep '+', '&amp;' and non-ASCII letters as they
    /// are (the default encoder escapes them for HTML embedding, which a JSON API does not need).
    /// </summary>
    public static ApiJsonContext Api { get; } = new(new JsonSerializerOptions
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
