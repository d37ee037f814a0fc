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
/// <c>--changes</c> times, 2 s apart, each on the next replica in turn. Prints, as JSON: how many
/// trainings ran, how long each change took to be served by every replica (from the admin request, and
/// from its answer), and the requests and non-2xx answers under it. Overwrites the demo tables of CS.
/// </summary>
public static class ReplicasExperiment
{
    private const string Token = "replicas-experiment";
    private static readonly TimeSpan ChangeEvery = TimeSpan.FromSeconds(2);

    public static int Run(string[] args)
    {
        string db = Experiment.Arg(args, "--db") ?? Environment.GetEnvironmentVariable("RECSYS_DB")
            ?? throw new ArgumentException("--db CS (or RECSYS_DB) is required: replicas share a PostgreSQL database");
        int count = Experiment.PositiveIntArg(args, "--replicas", 3);
        int changes = Experiment.PositiveIntArg(args, "--changes", 10);
        string outDir = RecsysCommand.FreshOutput(args, "replicas-out");
        string build = RecsysCommand.Build;

        RecsysCommand.Run("db", "init", "--db", db);
        RecsysCommand.Run("db", "import", "--db", db, "--input", "demo",
            "--demo-users", Experiment.PositiveIntArg(args, "--demo-users", 10_000).ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--demo-tracks", Experiment.PositiveIntArg(args, "--demo-tracks", 20_000).ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--demo-plays", Experiment.PositiveIntArg(args, "--demo-plays", 300_000).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Sql(db, "DROP TABLE IF EXISTS recsys_model_registry, recsys_model_changes, recsys_model_versions, recsys_trainings");

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
            var options = new LoadDriver.LoadOptions(urls[0], "ml", 10_000, 2 * count, ChangeEvery * (changes + 1), TimeSpan.Zero) { Urls = urls };
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
