using System.Buffers;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using RecSys.Engine.Ann;
using RecSys.Engine.Data;
using RecSys.Engine.Recommend;
using RecSys.Server.Contracts;
using RecSys.Server.Endpoints;
using RecSys.Server.Metadata;

namespace RecSys.Bench.Suites;

/// <summary>
/// Writing a 20-track response with demo catalog metadata: the source-generated serializer over
/// response objects (baseline); the catalog's pre-rendered fields found by a dictionary lookup per
/// track; and what the endpoints do, the model's tracks bound to the catalog once and each batch's
/// fields preloaded; and a cache hit, the same with the scores kept as text by the response cache.
/// Each call writes another random ranking, as cache hits for different users do: on a large catalog
/// much of the time goes to waiting for memory.
/// </summary>
public class ResponseJsonBenchmarks
{
    private const int Rankings = 4096;

    [Params(50_000, 1_000_000)]
    public int Tracks { get; set; }

    private TrackRecommendation[][] _items = [];
    private RankedTracks[] _ranked = [];
    private byte[][] _cached = [];
    private int _next;
    private readonly ArrayBufferWriter<byte> _output = new(16 * 1024);

    [GlobalSetup]
    public void Setup()
    {
        var demo = DemoCatalog.Generate(new DemoOptions { Users = 100, Tracks = Tracks, Plays = 1000 });
        var tracks = new TrackFields(demo.Tracks.Select(t => t.TrackId).ToArray(), TrackCatalog.FromDemo(demo));
        var random = new Random(42);
        _ranked = new RankedTracks[Rankings];
        for (int r = 0; r < Rankings; r++)
        {
            var ranking = Enumerable.Range(0, 20).Select(i => new ScoredIndex(random.Next(Tracks), 0.9f - i * 0.01337f - r * 1e-5f)).ToArray();
            _ranked[r] = new RankedTracks(ranking, tracks);
        }
        _items = _ranked.Select(r => r.Describe()).ToArray();
        _cached = _ranked.Select(r =>
        {
            var encoded = new ArrayBufferWriter<byte>();
            CachedRanking.Encode(r.Ranked, encoded);
            return encoded.WrittenSpan.ToArray();
        }).ToArray();
    }

    [Benchmark(Baseline = true)]
    public int Serializer() => JsonSerializer.SerializeToUtf8Bytes(_items[_next++ % Rankings], ApiJsonContext.Api.TrackRecommendationArray).Length;

    [Benchmark]
    public int LookupPerTrack()
    {
        var ranked = _ranked[_next++ % Rankings];
        _output.ResetWrittenCount();
        RecommendationJson.StartArray(_output);
        for (int i = 0; i < ranked.Count; i++)
        {
            long id = ranked.TrackId(i);
            RecommendationJson.WriteItem(_output, i == 0, id, ranked.Score(i), ranked.Catalog.JsonFields(id));
        }
        RecommendationJson.EndArray(_output);
        return _output.WrittenCount;
    }

    [Benchmark]
    public int BoundAndPreloaded()
    {
        _output.ResetWrittenCount();
        _ranked[_next++ % Rankings].WriteJson(_output);
        return _output.WrittenCount;
    }

    [Benchmark]
    public int CachedScoresAsText()
    {
        int r = _next++ % Rankings;
        _output.ResetWrittenCount();
        _ranked[r].Tracks.WriteJson(_output, _cached[r]);
        return _output.WrittenCount;
    }
}
