using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using RecSys.Bench.Load;
using RecSys.Bench.Regress;
using StackExchange.Redis;

namespace RecSys.Bench.Experiments;

/// <summary>
/// <c>redis-cache [--users 10000] [--tracks 20000] [--connections 4] [--seconds 5] [--rounds 5]
/// [--cold-seconds 60] [--redis-server redis-server] [--out redis-cache-out]</c>: the original design's
/// "Redis cache" TODO, measured. A demo model is trained and served by <c>recsys serve</c> of this build;
/// a real <c>redis-server</c> (Debian's) runs beside it on loopback, filled with every listener's
/// <c>/ml</c> answer exactly as the server sends it. Then, each as a closed loop with
/// <c>--connections</c> requests in flight over ids walked as the load driver walks them:
/// <list type="bullet">
/// <item>a cold replica's first <c>--cold-seconds</c>: a new <c>recsys serve</c> on the same store, driven
/// from the moment it is ready, in <c>--seconds</c> windows (without a shared cache: its own
/// precomputed lists and response cache);</item>
/// <item>the same first minute of a fresh Redis client (what a replica backed by a shared cache would
/// fetch per request, before any HTTP in front of it);</item>
/// <item><c>--rounds</c> interleaved rounds, warm: the whole HTTP answer of the replica, then a Redis
/// GET of the same bytes.</item>
/// </list>
/// Prints, as JSON, each window's and round's answers a second and latency percentiles (µs).
/// </summary>
public static class RedisCacheExperiment
{
    public static int Run(string[] args)
    {
        int users = Experiment.PositiveIntArg(args, "--users", 10_000);
        int tracks = Experiment.PositiveIntArg(args, "--tracks", 20_000);
        int connections = Experiment.PositiveIntArg(args, "--connections", 4);
        var window = TimeSpan.FromSeconds(Experiment.PositiveIntArg(args, "--seconds", 5));
        int rounds = Experiment.PositiveIntArg(args, "--rounds", 5);
        int coldWindows = (int)Math.Ceiling(Experiment.PositiveIntArg(args, "--cold-seconds", 60) / window.TotalSeconds);
        string redisServer = Experiment.Arg(args, "--redis-server") ?? "redis-server";
        string outDir = RecsysCommand.FreshOutput(args, "redis-cache-out");
        string build = RecsysCommand.Build;
        var (store, serve) = RecsysCommand.DemoStore(outDir, users, tracks, users * 30L);

        using var redis = RedisProcess.Start(redisServer, outDir);
        var result = new JsonObject { ["users"] = users, ["tracks"] = tracks, ["connections"] = connections, ["window_seconds"] = window.TotalSeconds };

        // A cold replica's first minute, driven from the moment it says it is ready.
        var started = Stopwatch.StartNew();
        using (var cold = RunningServer.Start(build, Path.Combine(outDir, "cold"), store, serve))
        {
            result["cold_replica_start_to_ready_seconds"] = Math.Round(started.Elapsed.TotalSeconds, 2);
            result["cold_replica_windows"] = new JsonArray([.. Enumerable.Range(0, coldWindows).Select(_ => (JsonNode)Http(cold.Url, users, connections, window).ToJson())]);
        }

        using var warm = RunningServer.Start(build, Path.Combine(outDir, "warm"), store, serve);
        Fill(redis.Port, warm.Url, users);
        // A fresh client's first minute (this process has not run the GET loop before).
        using (var fresh = ConnectionMultiplexer.Connect($"127.0.0.1:{redis.Port}"))
        {
            result["cold_redis_client_windows"] = new JsonArray([.. Enumerable.Range(0, coldWindows).Select(_ => (JsonNode)Get(fresh, users, connections, window).ToJson())]);
        }
        using var client = ConnectionMultiplexer.Connect($"127.0.0.1:{redis.Port}");
        Http(warm.Url, users, connections, window);
        var httpRounds = new List<Measured>();
        var redisRounds = new List<Measured>();
        for (int r = 0; r < rounds; r++)
        {
            httpRounds.Add(Http(warm.Url, users, connections, window));
            redisRounds.Add(Get(client, users, connections, window));
        }
        result["warm_replica_http_rounds"] = new JsonArray([.. httpRounds.Select(m => (JsonNode)m.ToJson())]);
        result["warm_redis_get_rounds"] = new JsonArray([.. redisRounds.Select(m => (JsonNode)m.ToJson())]);
        result["median_warm"] = new JsonObject
        {
            ["http_answers_per_second"] = Median(httpRounds, m => m.PerSecond),
            ["redis_gets_per_second"] = Median(redisRounds, m => m.PerSecond),
            ["http_p50_us"] = Median(httpRounds, m => m.P50),
            ["redis_p50_us"] = Median(redisRounds, m => m.P50),
            ["http_p99_us"] = Median(httpRounds, m => m.P99),
            ["redis_p99_us"] = Median(redisRounds, m => m.P99),
        };
        Console.WriteLine(result.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }

    private static double Median(List<Measured> rounds, Func<Measured, double> field)
    {
        var values = rounds.Select(field).Order().ToArray();
        return values[values.Length / 2];
    }

    /// <summary>One window: answers a second and latency percentiles (µs).</summary>
    private readonly record struct Measured(double PerSecond, long P50, long P99, long P999)
    {
        public Measured(LatencyHistogram h, double perSecond) : this(Math.Round(perSecond), h.Percentile(50), h.Percentile(99), h.Percentile(99.9))
        {
        }

        public JsonObject ToJson() => new() { ["per_second"] = PerSecond, ["p50_us"] = P50, ["p99_us"] = P99, ["p999_us"] = P999 };
    }

    /// <summary>One window of the replica's whole HTTP answer (the load driver, closed loop).</summary>
    private static Measured Http(Uri url, int users, int connections, TimeSpan window)
    {
        var report = LoadDriver.Measure(new LoadDriver.LoadOptions(url, "ml", users, connections, window, TimeSpan.Zero));
        if (report.Non2xx > 0) throw new InvalidOperationException($"{report.Non2xx} answers of {url} were not 2xx");
        return new Measured(report.Measured, report.RequestsPerSecond);
    }

    /// <summary>One window of Redis GETs of the same answers, <paramref name="connections"/> in flight.</summary>
    private static Measured Get(ConnectionMultiplexer redis, int users, int connections, TimeSpan window)
    {
        var db = redis.GetDatabase();
        long next = 0;
        var clock = Stopwatch.StartNew();
        // Every loop started before any is awaited: `connections` GETs in flight at once.
        Task<LatencyHistogram>[] loops = [.. Enumerable.Range(0, connections).Select(_ => Task.Run(async () =>
        {
            var histogram = new LatencyHistogram();
            while (clock.Elapsed < window)
            {
                long n = Interlocked.Increment(ref next);
                long sent = Stopwatch.GetTimestamp();
                var value = await db.StringGetAsync(Key(n * 7919 % users + 1));
                if (value.IsNull) throw new InvalidOperationException("a listener's answer is missing from Redis");
                histogram.Record((long)Stopwatch.GetElapsedTime(sent).TotalMicroseconds);
            }
            return histogram;
        }))];
        var all = new LatencyHistogram();
        foreach (var h in Task.WhenAll(loops).GetAwaiter().GetResult()) all.Add(h);
        return new Measured(all, all.Count / clock.Elapsed.TotalSeconds);
    }

    private static RedisKey Key(long user) => $"recsys:ml:{user}";

    /// <summary>Every listener's /ml answer, byte for byte, into Redis.</summary>
    private static void Fill(int port, Uri server, int users)
    {
        using var redis = ConnectionMultiplexer.Connect($"127.0.0.1:{port}");
        var db = redis.GetDatabase();
        using var http = new HttpClient { BaseAddress = server };
        foreach (var chunk in Enumerable.Range(1, users).Chunk(256))
        {
            var answers = chunk.Select(u => http.GetByteArrayAsync($"/recommend/user/{u}/ml?limit=20")).ToArray();
            Task.WaitAll(answers);
            Task.WaitAll([.. chunk.Select((u, i) => db.StringSetAsync(Key(u), answers[i].Result))]);
        }
    }
}
