using System.Text.Json;
using System.Text.Json.Serialization;

namespace RecSys.Server.Contracts;

/// <summary>
/// Writes a score as <see cref="RecommendationJson.FormatScore"/> does (always with a fraction or an
/// exponent), so the serializer and the endpoints' own writer give the same bytes.
/// </summary>
public sealed class ScoreJsonConverter : JsonConverter<float>
{
    public override float Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.GetSingle();

    public override void Write(Utf8JsonWriter writer, float value, JsonSerializerOptions options)
    {
        Span<byte> text = stackalloc byte[RecommendationJson.MaxScoreLength];
        int length = RecommendationJson.FormatScore(value, text);
        writer.WriteRawValue(text[..length], skipInputValidation: true);
    }
}
