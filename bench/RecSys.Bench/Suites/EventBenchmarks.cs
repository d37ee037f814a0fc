using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using RecSys.Engine.Als;
using RecSys.Engine.Data;
using RecSys.Engine.Events;
using RecSys.Engine.Sparse;
using RecSys.Engine.Training;
using RecSys.Server.Configuration;
using RecSys.Server.Events;
using RecSys.Server.Hosting;
using RecSys.Server.Metadata;

namespace RecSys.Bench.Suites;

/// <summary>
/// Play events: parsing and validating a request body of 100 events (JSON array and NDJSON), and the
/// live answer a new play makes a known user's next request compute (fold-in of their row plus the
/// play), on the demo catalog (10k users × 50k tracks × 64 factors).
/// </summary>
public class EventBenchmarks
{
    private ReadOnlySequence<byte> _array;
    private ReadOnlySequence<byte> _ndjson;
    private ServingModel _serving = null!;
    private LivePlays _live = null!;
    private long[] _users = [];
    private long _next;
    private string _storage = "";

    [GlobalSetup]
    public void Setup()
    {
        var now = DateTime.UtcNow;
        var events = Enumerable.Range(0, 100).Select(i =>
            $$"""{"event_id":"0b7f3c1e-5d2a-4f7e-9c3b-{{i:D12}}","user_id":{{1000 + i}},"track_id":{{i * 37}},"milestone":{{i % 101}},"is_completed":{{(i % 2 == 0 ? "true" : "false")}},"played_at":"{{now.AddMinutes(-i):O}}"}""").ToArray();
        _array = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes("[" + string.Join(",", events) + "]"));
        _ndjson = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(string.Join("\n", events)));

        var demo = DemoCatalog.Generate(new DemoOptions());
        var matrix = InteractionMatrix.Build(demo.ToInteractions().Table);
        var training = new AlsOptions { Iterations = 5 };
        var model = ModelBuilder.Build(matrix, ModelBuilder.Train(matrix.UserItems, training), training, "demo");
        _storage = Path.Combine(Path.GetTempPath(), $"recsys-bench-events-{Environment.ProcessId}");
        var store = new ModelStore(_storage);
        var options = new ServerOptions { Storage = _storage };
        var host = new ModelHost(store, options, TimeProvider.System, NullLogger<ModelHost>.Instance);
        host.SetCatalog(TrackCatalog.FromDemo(demo));
        _live = new LivePlays(host, options, NullLogger<LivePlays>.Instance);
        if (!host.TryPromote(store.Add(model, v => new ModelManifest { Version = v })).Ok) throw new InvalidOperationException("model did not load");
        _serving = host.Current!;
        _users = Enumerable.Range(0, model.UserCount).Where(u => model.UserItems!.RowLength(u) >= 5).Select(u => model.UserIds[u]).ToArray();
        // One live play each: the benchmark's users all have plays the model has not seen.
        _live.Record(_users.Select((u, i) => new PlayEvent($"e{i}", u, model.TrackIds[i % model.ItemCount], 100, true, now)).ToArray(),
            _users.Select((_, i) => (long)(i + 1)).ToArray());
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_storage, true);

    [Benchmark]
    public int ParseArrayOf100() => PlayEventParser.ParseArray(_array, DateTime.UtcNow, 10_000).Events.Count;

    [Benchmark]
    public int ParseNdjsonOf100() => PlayEventParser.ParseNdjson(_ndjson, DateTime.UtcNow, 10_000).Events.Count;

    /// <summary>A known user's live factors after a play: an exact fold-in over their row and the play (computed once per play, then reused).</summary>
    [Benchmark]
    public int LiveFoldIn()
    {
        var user = _live.Find(_users[_next++ % _users.Length])!;
        // A new play each time (a new sequence number: one held already is not added again), as under a steady stream of events.
        user.Add(-1, long.MaxValue / 2 + _next);
        return _live.Answer(_serving, user)!.Heard.Length;
    }
}
