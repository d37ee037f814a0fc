using System.Text.Json;
using RecSys.Engine.Ann;
using RecSys.Engine.Data;
using RecSys.Engine.Recommend;
using RecSys.Server.Contracts;
using RecSys.Server.Endpoints;
using RecSys.Server.Metadata;

namespace RecSys.Tests.Server;

/// <summary>
/// Track ids bound to a catalog, written in preloaded batches, against the serializer over response
/// objects built with per-track catalog lookups (the oracle).
/// </summary>
public sealed class TrackFieldsTests
{
    private static TrackCatalog Catalog(int tracks, SplitMix rng) => new(
        Enumerable.Range(1, tracks).Select(i => new TrackInfo(i * 10, $"title {i} \"{rng.NextInt(1000)}\"", i % 7, i % 3 == 0 ? null : $"artist {i % 7}",
            i % 5 == 0 ? null : i / 3, i * 1000, null, $"https://cdn.example/{i}.jpg")), "test");

    private static string Oracle(RankedTracks ranked) =>
        System.Text.Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(ranked.Describe(), ApiJsonContext.Api.TrackRecommendationArray));

    private static string Written(RankedTracks ranked)
    {
        var output = new System.Buffers.ArrayBufferWriter<byte>();
        ranked.WriteJson(output);
        return System.Text.Encoding.UTF8.GetString(output.WrittenSpan);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(33)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(500)]
    public void Rankings_of_any_length_across_batches_equal_the_serializers(int length)
    {
        var rng = new SplitMix((ulong)length + 1);
        var catalog = Catalog(300, rng);
        // Ids 10..3000 step 10 are in the catalog; the model also has ids it does not know (odd ones).
        long[] modelIds = Enumerable.Range(0, 400).Select(i => i % 4 == 3 ? i * 10L + 1 : (i % 300 + 1) * 10L).ToArray();
        var tracks = new TrackFields(modelIds, catalog);
        var ranking = Enumerable.Range(0, length).Select(i => new ScoredIndex(rng.NextInt(modelIds.Length), (float)rng.NextGaussian())).ToArray();
        var ranked = new RankedTracks(ranking, tracks);
        Assert.Equal(Oracle(ranked), Written(ranked));
        Assert.Equal(Oracle(ranked), WrittenFromCache(ranked));
    }

    /// <summary>The same ranking as the response cache keeps it (scores as text) and writes it on a hit.</summary>
    private static string WrittenFromCache(RankedTracks ranked)
    {
        var encoded = new System.Buffers.ArrayBufferWriter<byte>();
        CachedRanking.Encode(ranked.Ranked, encoded);
        var output = new System.Buffers.ArrayBufferWriter<byte>();
        ranked.Tracks.WriteJson(output, encoded.WrittenSpan);
        return System.Text.Encoding.UTF8.GetString(output.WrittenSpan);
    }

    [Fact]
    public void Cached_scores_keep_every_float_format_the_serializer_uses()
    {
        // Shortest round-trip text runs from one byte ("0") to fourteen here ("-1.1754944E-38"): the cache keeps it whole.
        float[] scores = [0f, -0f, 1f, -1f, 0.1f, 1e-7f, -1.1754944E-38f, float.Epsilon, -float.MaxValue, 3.4028235E+38f, 123456.79f, 0.33333334f];
        var tracks = new TrackFields(Enumerable.Range(1, scores.Length).Select(i => (long)i).ToArray(), TrackCatalog.Empty);
        var ranked = new RankedTracks(scores.Select((s, i) => new ScoredIndex(i, s)).ToArray(), tracks);
        Assert.Equal(Oracle(ranked), WrittenFromCache(ranked));
        Assert.Throws<ArgumentException>(() => CachedRanking.Encode([new ScoredIndex(0, float.NaN)], new System.Buffers.ArrayBufferWriter<byte>()));
    }

    [Fact]
    public void Without_a_catalog_every_track_has_null_fields()
    {
        var tracks = new TrackFields([5, 6, 7], TrackCatalog.Empty);
        var ranked = new RankedTracks([new ScoredIndex(2, 0.5f), new ScoredIndex(0, 0.25f)], tracks);
        Assert.Equal(Oracle(ranked), Written(ranked));
        Assert.Contains("\"title\":null", Written(ranked));
        Assert.Equal("[]", Written(RankedTracks.Empty));
    }

    [Fact]
    public void A_later_duplicate_in_the_catalog_wins()
    {
        var first = new TrackInfo(1, "old", 1, "a", null, null, null, null);
        var catalog = new TrackCatalog([first, first with { Title = "new" }], "test");
        var ranked = new RankedTracks([new ScoredIndex(0, 1f)], new TrackFields([1], catalog));
        Assert.Contains("\"title\":\"new\"", Written(ranked));
        Assert.Equal(Oracle(ranked), Written(ranked));
    }
}
