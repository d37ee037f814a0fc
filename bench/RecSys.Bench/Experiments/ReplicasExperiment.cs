using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;
using RecSys.Bench.Load;
using RecSys.Bench.Regress;

namespace RecSys.Bench.Experiments;

/// <summary>
/// <c>replicas --db CS [--replicas 3] [--changes 10] [--demo-users 10000] [--demo-tracks 20000]
/// [--demo-plays 300000] [--out replicas-out]</c>: N <c>recsys serve --db CS --storage DIR</c> of this
/// build on loopback ports, one shared store, the database filled with the demo catalog and its registry
/// emptied. They start together (one trains), a second version is trained, and then, under the load
/// driver spread over every replica, the current version is rolled back and promoted again
/// <c>--changes</c> times, 2 s apart, each on the next replica in turn. Then, still under that load and
/// beside a stream of play events (100 every 50 ms, to the replicas in turn), <c>--plays</c> times
/// (default 20) a listener's top recommendation is played on one replica and the others' answers are
/// read until it is gone from them too. Prints, as JSON: how many trainings ran, how long each change took
/// to be served by every replica (from the admin request, and from its answer), how long a play took to
/// reach every other replica's answers (from the event's 202), and the requests and non-2xx answers under
/// it all. Overwrites the demo tables of CS.
/// </summary>
public static class ReplicasExperiment
{
    private const string Token = "replicas-experiment";
    private static readonly TimeSpan ChangeEvery = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan PlayEvery = TimeSpan.FromMilliseconds(500);

    public static int Run(string[] args)
    {
        string db = Experiment.Arg(args, "--db") ?? Environment.GetEnvironmentVariable("RECSYS_DB")
            ?? throw new ArgumentException("--db CS (or RECSYS_DB) is required: replicas share a PostgreSQL database");
        int count = Experiment.PositiveIntArg(args, "--replicas", 3);
        int changes = Experiment.PositiveIntArg(args, "--changes", 10);
        int plays = Experiment.PositiveIntArg(args, "--plays", 20);
        string outDir = RecsysCommand.FreshOutput(args, "replicas-out");
        string build = RecsysCommand.Build;

        RecsysCommand.Run("db", "init", "--db", db);
        RecsysCommand.Run("db", "import", "--db", db, "--input", "demo",
            "--demo-users", Experiment.PositiveIntArg(args, "--demo-users", 10_000).ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--demo-tracks", Experiment.PositiveIntArg(args, "--demo-tracks", 20_000).ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--demo-plays", Experiment.PositiveIntArg(args, "--demo-plays", 300_000).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Sql(db, "DROP TABLE IF EXISTS recsys_model_registry, recsys_model_changes, recsys_model_versions, recsys_trainings, recsys_play_feed; " +
            "DROP SEQUENCE IF EXISTS recsys_play_feed_numbers");

        string store = Path.Combine(outDir, "store");
        var replicas = new List<RunningServer>();
        try
        {
            var clock = Stopwatch.StartNew();
            var starting = Enumerable.Range(0, count).Select(i => Task.Run(() => RunningServer.Start(build, Path.Combine(outDir, $"replica-{i}"), store,
                "--db", db, "--admin-token", Token))).ToArray();
            try
            {
                Task.WaitAll(starting);
            }
            finally
            {
                replicas.AddRange(starting.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result));
            }
            var clients = replicas.Select(r => new HttpClient { BaseAddress = r.Url, Timeout = TimeSpan.FromSeconds(30) }).ToArray();
            string first = UntilAllServe(clients, _ => true, TimeSpan.FromMinutes(5));
            double startSeconds = clock.Elapsed.TotalSeconds;
            Post(clients[0], "/admin/train");
            string second = UntilAllServe(clients, v => v != first, TimeSpan.FromMinutes(5));

            var urls = replicas.Select(r => r.Url).ToArray();
            var options = new LoadDriver.LoadOptions(urls[0], "ml", 10_000, 2 * count, ChangeEvery * (changes + 1) + PlayEvery * (plays + 2), TimeSpan.Zero) { Urls = urls };
            var load = Task.Factory.StartNew(() => LoadDriver.Measure(options), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            var fromRequest = new List<double>();
            var fromAnswer = new List<double>();
            Thread.Sleep(ChangeEvery / 2);
            for (int c = 0; c < changes; c++)
            {
                var pace = Stopwatch.StartNew();
                string expected = c % 2 == 0 ? first : second;
                var client = clients[c % count];
                var timer = Stopwatch.StartNew();
                Post(client, c % 2 == 0 ? "/admin/models/rollback" : $"/admin/models/{second}/promote");
                double answered = timer.Elapsed.TotalMilliseconds;
                UntilAllServe(clients, v => v == expected, TimeSpan.FromSeconds(60), pollMilliseconds: 5);
                fromRequest.Add(timer.Elapsed.TotalMilliseconds);
                fromAnswer.Add(timer.Elapsed.TotalMilliseconds - answered);
                if (pace.Elapsed < ChangeEvery) Thread.Sleep(ChangeEvery - pace.Elapsed);
            }
            var reached = PlayAcross(clients, plays);
            var report = load.GetAwaiter().GetResult();
            var result = new JsonObject
            {
                ["replicas"] = count,
                ["changes"] = changes,
                ["start_seconds"] = Math.Round(startSeconds, 1),
                ["trainings"] = Scalar(db, "SELECT count(*) FROM recsys_trainings WHERE ok"),
                ["trainings_expected"] = 2,
                ["follow_ms_from_request"] = Summary(fromRequest),
                ["follow_ms_from_answer"] = Summary(fromAnswer),
                ["play_reached_others_ms"] = Summary(reached),
                ["requests"] = report.Measured.Count,
                ["requests_per_replica"] = new JsonArray([.. report.AnswersPerUrl.Select(n => (JsonNode)n)]),
                ["non_2xx"] = report.Non2xx,
                ["p99_us"] = report.Measured.Percentile(99),
            };
            Console.WriteLine(result.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return report.Non2xx == 0 ? 0 : 1;
        }
        finally
        {
            foreach (var r in replicas) r.Dispose();
        }
    }

    /// <summary>
    /// Beside a stream of other events, plays a listener's top recommendation on one replica and reads
    /// the other replicas' answers for that listener until the track is gone; the times from the 202.
    /// </summary>
    private static List<double> PlayAcross(HttpClient[] clients, int plays)
    {
        using var stop = new CancellationTokenSource();
        var background = Task.Run(async () =>
        {
            var random = new Random(7);
            int refused = 0;
            for (int batch = 0; !stop.IsCancellationRequested; batch++)
            {
                var events = Enumerable.Range(0, 100).Select(_ => Event(random.Next(1, 10_000), random.Next(1, 20_000)));
                using var content = new StringContent("[" + string.Join(",", events) + "]", System.Text.Encoding.UTF8, "application/json");
                using var answer = await clients[batch % clients.Length].PostAsync("/events/plays", content);
                if (!answer.IsSuccessStatusCode) refused++;
                await Task.Delay(50);
            }
            return refused;
        });
        var reached = new List<double>();
        try
        {
            for (int p = 0; p < plays; p++)
            {
                var pace = Stopwatch.StartNew();
                var at = clients[p % clients.Length];
                long user = JsonNode.Parse(at.GetStringAsync("/users/random").GetAwaiter().GetResult())!["user_id"]!.GetValue<long>();
                long track = Top(at, user)[0];
                using (var content = new StringContent("[" + Event(user, track) + "]", System.Text.Encoding.UTF8, "application/json"))
                using (var answer = at.PostAsync("/events/plays", content).GetAwaiter().GetResult())
                {
                    if (!answer.IsSuccessStatusCode) throw new InvalidOperationException($"POST /events/plays on {at.BaseAddress} answered {(int)answer.StatusCode}");
                }
                var timer = Stopwatch.StartNew();
                foreach (var other in clients.Where(c => c != at))
                {
                    while (Top(other, user).Contains(track))
                    {
                        if (timer.Elapsed > TimeSpan.FromSeconds(60)) throw new TimeoutException($"a play on {at.BaseAddress} never reached {other.BaseAddress}");
                        Thread.Sleep(2);
                    }
                }
                reached.Add(timer.Elapsed.TotalMilliseconds);
                if (pace.Elapsed < PlayEvery) Thread.Sleep(PlayEvery - pace.Elapsed);
            }
        }
        finally
        {
            stop.Cancel();
        }
        int refusedBatches = background.GetAwaiter().GetResult();
        if (refusedBatches > 0) throw new InvalidOperationException($"{refusedBatches} batches of the background event stream were not accepted");
        return reached;
    }

    private static string Event(long user, long track) =>
        $$"""{"event_id":"{{Guid.NewGuid():N}}","user_id":{{user}},"track_id":{{track}},"milestone":100,"is_completed":true}""";

    private static long[] Top(HttpClient client, long user) =>
        [.. JsonNode.Parse(client.GetStringAsync($"/recommend/user/{user}/ml?limit=20").GetAwaiter().GetResult())!.AsArray().Select(e => e!["track_id"]!.GetValue<long>())];

    private static JsonObject Summary(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return new JsonObject
        {
            ["median"] = Math.Round(sorted[sorted.Length / 2], 1),
            ["max"] = Math.Round(sorted[^1], 1),
            ["all"] = new JsonArray([.. values.Select(v => (JsonNode)Math.Round(v, 1))]),
        };
    }

    private static void Post(HttpClient client, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", Token) } };
        using var answer = client.Send(request);
        if (!answer.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST {path} on {client.BaseAddress} answered {(int)answer.StatusCode}: {answer.Content.ReadAsStringAsync().GetAwaiter().GetResult()}");
        }
    }

    /// <summary>Polls every replica's /model until all serve one version <paramref name="wanted"/> accepts; returns it.</summary>
    private static string UntilAllServe(HttpClient[] clients, Func<string, bool> wanted, TimeSpan timeout, int pollMilliseconds = 100)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var versions = clients.Select(c => JsonNode.Parse(c.GetStringAsync("/model").GetAwaiter().GetResult())?["version"]?.GetValue<string>()).ToArray();
            if (versions[0] is { } v && wanted(v) && versions.All(x => x == v)) return v;
            if (deadline.Elapsed > timeout) throw new TimeoutException($"replicas serve {string.Join(", ", versions.Select(x => x ?? "nothing"))} after {timeout.TotalSeconds} s");
            Thread.Sleep(pollMilliseconds);
        }
    }

    private static void Sql(string db, string sql)
    {
        using var connection = new NpgsqlConnection(db);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }

    private static long Scalar(string db, string sql)
    {
        using var connection = new NpgsqlConnection(db);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
