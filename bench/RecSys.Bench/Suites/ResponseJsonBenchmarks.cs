using System.Buffers;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using RecSys.Engine.Data;
using RecSys.Engine.Recommend;
using RecSys.Server.Contracts;
using RecSys.Server.Endpoints;
using RecSys.Server.Metadata;

namespace RecSys.Bench.Suites;

/// <summary>
/// Writing a 20-track response: the source-generated serializer over response objects (baseline)
/// against what the endpoints do, a ranking written with the catalog's pre-rendered fields (demo
/// catalog metadata).
/// </summary>
public class ResponseJsonBenchmarks
{
    private TrackRecommendation[] _items = [];
    private RankedTracks _ranked;
    private readonly ArrayBufferWriter<byte> _output = new(16 * 1024);

    [GlobalSetup]
    public void Setup()
    {
        var demo = DemoCatalog.Generate(new DemoOptions { Users = 100, Tracks = 5000, Plays = 1000 });
        long[] ids = demo.Tracks.Select(t => t.TrackId).ToArray();
        _ranked = new RankedTracks(Enumerable.Range(0, 20).Select(i => new ScoredIndex(i * 97, 0.9f - i * 0.01337f)).ToArray(), ids, TrackCatalog.FromDemo(demo));
        _items = _ranked.Describe();
    }

    [Benchmark(Baseline = true)]
    public int Serializer() => JsonSerializer.SerializeToUtf8Bytes(_items, ApiJsonContext.Api.TrackRecommendationArray).Length;

    [Benchmark]
    public int PreRenderedFields()
    {
        _output.ResetWrittenCount();
        _ranked.WriteJson(_output);
        return _output.WrittenCount;
    }
}
