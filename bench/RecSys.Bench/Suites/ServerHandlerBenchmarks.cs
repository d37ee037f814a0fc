using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using RecSys.Engine.Als;
using RecSys.Engine.Data;
using RecSys.Engine.Model;
using RecSys.Engine.Sparse;
using RecSys.Engine.Training;
using RecSys.Server.Configuration;
using RecSys.Server.Endpoints;
using RecSys.Server.Hosting;
using RecSys.Server.Metadata;

namespace RecSys.Bench.Suites;

/// <summary>
/// The /ml and /similar handler path in-process (no sockets, no response cache): model lookup,
/// HNSW retrieval, metadata and JSON serialisation, on the demo catalog (10k users × 50k tracks × 64
/// factors), with the lists a model precomputes when it loads (a lookup per answer) and without them
/// (a search per answer). The socket-level numbers come from bench/load/run.sh.
/// </summary>
public class ServerHandlerBenchmarks
{
    private RecommendationService _service = null!;
    private long[] _users = null!;
    private long[] _tracks = null!;
    private int _next;
    private string _storage = "";

    [Params(true, false)]
    public bool Precomputed { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var demoOptions = new DemoOptions();
        var demo = DemoCatalog.Generate(demoOptions);
        var data = demo.ToInteractions();
        var matrix = InteractionMatrix.Build(data.Table);
        var training = new AlsOptions { Iterations = 5 };
        var model = ModelBuilder.Build(matrix, ModelBuilder.Train(matrix.UserItems, training), training, data.Source);
        _storage = Path.Combine(Path.GetTempPath(), $"recsys-bench-store-{Environment.ProcessId}");
        var options = new ServerOptions { Storage = _storage, Retrieval = new() { PrecomputedLength = Precomputed ? 20 : 0 } };
        var store = new ModelStore(_storage);
        var host = new ModelHost(store, options, TimeProvider.System, NullLogger<ModelHost>.Instance);
        host.SetCatalog(TrackCatalog.FromDemo(demo));
        string version = store.Add(model, v => new ModelManifest { Version = v });
        if (!host.TryPromote(version).Ok) throw new InvalidOperationException("model did not load");
        _service = new RecommendationService(host, new NoUserPlays(), new RecSys.Server.Events.LivePlays(host, options, NullLogger<RecSys.Server.Events.LivePlays>.Instance), options, TimeProvider.System);
        _users = Enumerable.Range(0, model.UserCount).Where(u => model.UserItems!.RowLength(u) >= options.ColdStartThreshold).Select(u => model.UserIds[u]).ToArray();
        _tracks = model.TrackIds;
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_storage, true);

    [Benchmark]
    public int PersonalMl()
    {
        long user = _users[_next++ % _users.Length];
        var (ranked, _) = _service.RankForUserAsync(user, 20, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        return Write(ranked);
    }

    [Benchmark]
    public int SimilarTracks()
    {
        long track = _tracks[(int)((uint)(_next++ * 7919) % (uint)_tracks.Length)];
        return Write(_service.RankSimilar(track, 10)!.Value);
    }

    private readonly System.Buffers.ArrayBufferWriter<byte> _body = new(16 * 1024);

    /// <summary>As the endpoint does it: JSON into a reused buffer (the copy into the socket's pipe is not counted).</summary>
    private int Write(RankedTracks ranked)
    {
        _body.ResetWrittenCount();
        ranked.WriteJson(_body);
        return _body.WrittenCount;
    }
}
