using System.Text.Json;
using System.Text.RegularExpressions;
using RecSys.Server.Contracts;

namespace RecSys.Tests.Server;

/// <summary>Every score is a JSON number with a fraction or an exponent, from every source (clients read them as doubles).</summary>
public sealed partial class ScoreFormatTests
{
    [GeneratedRegex("\"score\":([^,}]*)")]
    private static partial Regex Score();

    /// <summary>Asserts every score in <paramref name="json"/> has a fraction or exponent; returns how many there were.</summary>
    internal static int AssertScoresHaveFractions(string json)
    {
        var scores = Score().Matches(json).Select(m => m.Groups[1].Value).ToList();
        Assert.All(scores, s =>
        {
            Assert.Matches("^-?[0-9]+(\\.[0-9]+)?([eE][+-]?[0-9]+)?$", s);
            Assert.True(s.Contains('.') || s.Contains('e') || s.Contains('E'), $"score {s} has neither a fraction nor an exponent");
        });
        return scores.Count;
    }

    [Theory]
    [InlineData(27f, "27.0")]
    [InlineData(0f, "0.0")]
    [InlineData(-3f, "-3.0")]
    [InlineData(0.5f, "0.5")]
    [InlineData(0.87f, "0.87")]
    [InlineData(1e20f, "1E+20")]
    [InlineData(1.5e-7f, "1.5E-07")]
    public void Format_and_serializer_agree(float score, string expected)
    {
        Span<byte> text = stackalloc byte[RecommendationJson.MaxScoreLength];
        int length = RecommendationJson.FormatScore(score, text);
        Assert.Equal(expected, System.Text.Encoding.UTF8.GetString(text[..length]));
        var item = new TrackRecommendation(1, score, null, null, null, null, null, null, null);
        string serialized = JsonSerializer.Serialize(new[] { item }, ApiJsonContext.Api.TrackRecommendationArray);
        Assert.Contains($"\"score\":{expected},", serialized);
        Assert.Equal(serialized, System.Text.Encoding.UTF8.GetString(RecommendationJson.Serialize([item])));
        Assert.Equal(score, JsonDocument.Parse(serialized).RootElement[0].GetProperty("score").GetSingle());
    }

    [Fact]
    public async Task Ml_similar_popularity_and_legacy_answers_write_fractions()
    {
        await using (var s = await TestServer.StartAsync())
        {
            var model = s.Host.Current!.Model;
            string ml = await s.Http.GetStringAsync($"/recommend/user/{model.UserIds[0]}/ml?limit=20");
            Assert.Equal(20, AssertScoresHaveFractions(ml));
            string similar = await s.Http.GetStringAsync($"/recommend/similar/{model.TrackIds[0]}?limit=20");
            Assert.Equal(20, AssertScoresHaveFractions(similar));
            var popular = await s.Http.GetAsync("/recommend/user/987654321/ml?limit=20");
            Assert.Equal("popularity", popular.Headers.GetValues("X-Recommendation-Source").Single());
            Assert.Equal(20, AssertScoresHaveFractions(await popular.Content.ReadAsStringAsync()));
        }
        await using (var legacy = await TestServer.StartAsync(o => { o.TrainIfMissing = false; return o; }, waitReady: false))
        {
            var r = await legacy.Http.GetAsync("/recommend/user/5/ml?limit=20");
            Assert.Equal("legacy", r.Headers.GetValues("X-Recommendation-Source").Single());
            Assert.Equal(20, AssertScoresHaveFractions(await r.Content.ReadAsStringAsync()));
        }
    }
}
