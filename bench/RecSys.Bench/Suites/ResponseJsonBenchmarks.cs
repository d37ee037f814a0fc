using System.Text.Json;
using BenchmarkDotNet.Attributes;
using RecSys.Engine.Data;
using RecSys.Server.Contracts;
using RecSys.Server.Metadata;

namespace RecSys.Bench.Suites;

/// <summary>
/// Writing a 20-track response: the source-generated serializer (baseline) against the writer that
/// copies each catalog entry's pre-rendered fields (demo catalog metadata).
/// </summary>
public class ResponseJsonBenchmarks
{
    private TrackRecommendation[] _items = [];

    [GlobalSetup]
    public void Setup()
    {
        var demo = DemoCatalog.Generate(new DemoOptions { Users = 100, Tracks = 5000, Plays = 1000 });
        var catalog = TrackCatalog.FromDemo(demo);
        _items = demo.Tracks.Take(20).Select((t, i) =>
        {
            catalog.TryFind(t.TrackId, out _, out var fields);
            return new TrackRecommendation(t.TrackId, 0.9f - i * 0.01337f, t.Title, t.ArtistName, t.ArtistId, t.AlbumId, t.DurationMs, t.PreviewUrl, t.CoverUrl) { RenderedFields = fields };
        }).ToArray();
    }

    [Benchmark(Baseline = true)]
    public int Serializer() => JsonSerializer.SerializeToUtf8Bytes(_items, ApiJsonContext.Api.TrackRecommendationArray).Length;

    [Benchmark]
    public int PreRenderedFields() => RecommendationJson.Serialize(_items).Length;
}
