using System.Text.Json;
using RecSys.Engine.Ann;
using RecSys.Engine.Data;
using RecSys.Engine.Recommend;
using RecSys.Server.Contracts;
using RecSys.Server.Endpoints;
using RecSys.Server.Metadata;

namespace RecSys.Tests.Server;

/// <summary>The response writer against the serializer it replaces (the oracle): the same bytes, always.</summary>
public sealed class RecommendationJsonTests
{
    private static readonly string?[] Texts =
    [
        null, "", "Plain", "Beyoncé & \"Jay\" + Ø", "line\nbreak\ttab\\slash/", "emoji 🎵 and 日本語", "<script>'x'</script>",
        "control \u0001\u001f", "https://cdn.example/p/1.mp3?a=1&b=2+3", "lone surrogate \ud800 end",
    ];

    private static readonly float[] Scores = [0f, -0f, 1f, -1f, 0.1f, 1e-30f, -3.4028235e38f, float.Epsilon, 0.32787842f, 123456.79f];

    private static TrackRecommendation Random(SplitMix rng, long id)
    {
        string? Text() => Texts[rng.NextInt(Texts.Length)];
        long? Long() => rng.NextInt(3) == 0 ? null : (long)(rng.NextUInt64() >> rng.NextInt(64)) * (rng.NextInt(2) == 0 ? 1 : -1);
        int? Int() => rng.NextInt(3) == 0 ? null : rng.NextInt(int.MaxValue) - 1000;
        float score = rng.NextInt(2) == 0 ? Scores[rng.NextInt(Scores.Length)] : (float)(rng.NextGaussian() * Math.Pow(10, rng.NextInt(12) - 6));
        return new TrackRecommendation(id, score, Text(), Text(), Long(), Long(), Int(), Text(), Text());
    }

    private static string Expected(TrackRecommendation[] items) =>
        System.Text.Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(items, ApiJsonContext.Api.TrackRecommendationArray));

    [Fact]
    public void Output_equals_the_serializers_for_random_metadata_and_scores()
    {
        var rng = new SplitMix(7);
        for (int round = 0; round < 300; round++)
        {
            var items = Enumerable.Range(0, rng.NextInt(25)).Select(i => Random(rng, i == 0 ? long.MinValue : (long)rng.NextUInt64() - i)).ToArray();
            Assert.Equal(Expected(items), System.Text.Encoding.UTF8.GetString(RecommendationJson.Serialize(items)));
        }
    }

    [Fact]
    public void Fields_rendered_from_a_catalog_entry_equal_the_serializers()
    {
        var rng = new SplitMix(8);
        var tracks = Enumerable.Range(1, 200).Select(i =>
        {
            var r = Random(rng, i);
            return new TrackInfo(i, r.Title, r.ArtistId, r.ArtistName, r.AlbumId, r.DurationMs, r.PreviewUrl, r.CoverUrl);
        }).ToList();
        tracks.Add(tracks[4] with { Title = "replaced" });
        var catalog = new TrackCatalog(tracks, "test");
        Assert.Equal(200, catalog.Count);
        Assert.Equal("replaced", catalog.Find(5)!.Title);
        // Tracks 1..200 have metadata, 201..210 do not (null fields); a later duplicate id replaces the earlier one.
        long[] ids = Enumerable.Range(1, 210).Select(i => (long)i).ToArray();
        var ranked = new RankedTracks(Enumerable.Range(0, 210).Select(i => new ScoredIndex(i, (float)rng.NextGaussian())).ToArray(), ids, catalog);
        var output = new System.Buffers.ArrayBufferWriter<byte>();
        ranked.WriteJson(output);
        Assert.Equal(Expected(ranked.Describe()), System.Text.Encoding.UTF8.GetString(output.WrittenSpan));
        Assert.Equal("[]", System.Text.Encoding.UTF8.GetString(RecommendationJson.Serialize([])));
    }

    [Fact]
    public void A_non_finite_score_is_refused_as_the_serializer_refuses_it()
    {
        var item = new TrackRecommendation(1, float.NaN, null, null, null, null, null, null, null);
        Assert.ThrowsAny<ArgumentException>(() => JsonSerializer.SerializeToUtf8Bytes(new[] { item }, ApiJsonContext.Api.TrackRecommendationArray));
        Assert.Throws<ArgumentException>(() => RecommendationJson.Serialize([item]));
    }
}
