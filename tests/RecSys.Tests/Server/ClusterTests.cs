using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace RecSys.Tests.Server;

/// <summary>
/// Three <c>recsys serve</c> processes on loopback ports sharing one PostgreSQL database and one storage
/// folder (<c>--db CS --storage DIR</c>), as replicas behind a load balancer: one training among them,
/// every promotion and rollback followed by all (by notification: the periodic check is a minute apart
/// here; how fast is measured by <c>B replicas</c>, docs/scaling.md) while a round-robin client gets only 2xx
/// answers, a replica that cannot load a version keeps serving, a killed one catches up, and a lost
/// subscription (the database dropping its sessions, as a restart does) is renewed.
/// </summary>
public sealed class ClusterTests : IClassFixture<PostgresFixture>, IDisposable
{
    private const string Token = "cluster-test-token";
    /// <summary>Under the periodic check's minute: a replica that follows within it followed a notification.</summary>
    private static readonly TimeSpan ByNotification = TimeSpan.FromSeconds(30);
    private readonly PostgresFixture _db;
    private readonly TempDir _storage = new();

    public ClusterTests(PostgresFixture db)
    {
        _db = db;
        _db.SeedDemoAsync().GetAwaiter().GetResult();
        _db.Execute("DROP TABLE IF EXISTS recsys_model_registry, recsys_model_changes, recsys_model_versions, recsys_trainings");
    }

    public void Dispose() => _storage.Dispose();

    private Task<ServerProcess> StartReplicaAsync() =>
        // The periodic check a minute apart: following within seconds is the notifications' doing.
        // Pooled, as a deployment's would be (the fixture's own string opens a session per query).
        ServerProcess.StartAsync(_storage.Path, new Npgsql.NpgsqlConnectionStringBuilder(_db.ConnectionString) { Pooling = true }.ConnectionString,
            "--admin-token", Token, "--set", "Cluster:PollMilliseconds=60000");

    [Fact]
    public async Task Three_replicas_train_once_and_follow_every_promotion_and_rollback_under_load()
    {
        // All three start on an empty store at once: each wants a model, one trains it, the others load it when it is promoted.
        var replicas = await Task.WhenAll(StartReplicaAsync(), StartReplicaAsync(), StartReplicaAsync());
        try
        {
            string first = await UntilAllServeAnyAsync(replicas, TimeSpan.FromMinutes(3));
            // The run is recorded just after its promotion; none other starts (they declined or waited and found the model).
            await UntilAsync(() => _db.ScalarAsync("SELECT count(*) FROM recsys_trainings WHERE finished_at IS NOT NULL"), n => n >= 1, TimeSpan.FromSeconds(30));
            Assert.Equal(1, await _db.ScalarAsync("SELECT count(*) FROM recsys_trainings"));
            Assert.Equal(1, await _db.ScalarAsync("SELECT count(*) FROM recsys_trainings WHERE ok"));
            string trainer = await TrainerOfAsync(first);
            foreach (var r in replicas)
            {
                var model = await ModelAsync(r);
                Assert.Equal(trainer, (string?)model["training"]!["last"]!["node"]);
                Assert.Equal("postgres", (string?)model["cluster"]!["registry"]);
                Assert.True((bool)model["cluster"]!["in_sync"]!, model.ToJsonString());
            }
            var nodes = await Task.WhenAll(replicas.Select(async r => (string?)(await ModelAsync(r))["cluster"]!["node"]));
            Assert.Equal(3, nodes.Distinct().Count());
            Assert.Contains(trainer, nodes);

            using var load = new RoundRobinLoad(replicas);

            // Training asked of every replica at once runs on one of them.
            var trains = await Task.WhenAll(replicas.Select(r => r.Http.SendAsync(Admin("/admin/train"))));
            Assert.All(trains, t => Assert.Equal(System.Net.HttpStatusCode.Accepted, t.StatusCode));
            string second = await UntilAllServeAsync(replicas, v => v != first, TimeSpan.FromMinutes(3));
            await UntilAsync(() => _db.ScalarAsync("SELECT count(*) FROM recsys_trainings WHERE ok"), n => n >= 2, TimeSpan.FromSeconds(30));
            // Asked of all three at once, trained once: the others found the lock taken, or a run started since they were asked.
            Assert.Equal(1, await _db.ScalarAsync("SELECT count(*) FROM recsys_trainings WHERE trigger = 'admin'"));

            // Rollback on one replica, promotion on another, rollback on the third: all follow each within the target.
            foreach (var (replica, path, expected) in new[]
            {
                (replicas[1], "/admin/models/rollback", first),
                (replicas[2], $"/admin/models/{second}/promote", second),
                (replicas[0], "/admin/models/rollback", first),
                (replicas[1], $"/admin/models/{second}/promote", second),
            })
            {
                var answer = await replica.Http.SendAsync(Admin(path));
                Assert.True(answer.IsSuccessStatusCode, await answer.Content.ReadAsStringAsync());
                await UntilAllServeAsync(replicas, v => v == expected, ByNotification);
            }

            var (ok, failed, errors) = await load.StopAsync();
            Assert.True(ok > 100, $"only {ok} answers under load");
            Assert.True(failed == 0, $"{failed} failed requests: {string.Join("; ", errors)}");
            // Every change is on record with the node that made it: the two trainings' promotions, then the four above.
            Assert.Equal(4, await _db.ScalarAsync("SELECT count(*) FROM recsys_model_changes WHERE action = 'promote'"));
            Assert.Equal(2, await _db.ScalarAsync("SELECT count(*) FROM recsys_model_changes WHERE action = 'rollback'"));
            Assert.Equal(0, await _db.ScalarAsync("SELECT count(*) FROM recsys_model_changes WHERE node IS NULL OR node = ''"));
        }
        finally
        {
            foreach (var r in replicas) await r.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_replica_that_cannot_load_keeps_serving_a_killed_one_catches_up_and_a_lost_subscription_is_renewed()
    {
        var one = await StartReplicaAsync();
        var replicas = new List<ServerProcess> { one };
        try
        {
            string first = await UntilAllServeAnyAsync(replicas, TimeSpan.FromMinutes(3));
            replicas.Add(await StartReplicaAsync());
            replicas.Add(await StartReplicaAsync());
            await UntilAllServeAsync(replicas, v => v == first, TimeSpan.FromSeconds(30));
            using (var train = Admin("/admin/train")) Assert.Equal(System.Net.HttpStatusCode.Accepted, (await one.Http.SendAsync(train)).StatusCode);
            string second = await UntilAllServeAsync(replicas, v => v != first, TimeSpan.FromMinutes(3));

            // A version no replica can load, pointed at directly in the registry as a faulty node might: all keep serving, and say so.
            string broken = "20990101T000000000Z";
            Directory.CreateDirectory(Path.Combine(_storage.Path, "models", broken));
            await File.WriteAllTextAsync(Path.Combine(_storage.Path, "models", broken, "model.npz"), "not a model");
            await _db.ExecuteAsync($"UPDATE recsys_model_registry SET current_version = '{broken}'; SELECT pg_notify('recsys_model', '{broken}')");
            foreach (var r in replicas)
            {
                var model = await UntilAsync(r, m => m["last_reload"]?["version"]?.GetValue<string>() == broken, TimeSpan.FromSeconds(15));
                Assert.Equal(second, (string?)model["version"]);
                Assert.False((bool)model["last_reload"]!["ok"]!);
                Assert.False((bool)model["cluster"]!["in_sync"]!);
                Assert.Equal(broken, (string?)model["cluster"]!["current"]);
                Assert.Equal(System.Net.HttpStatusCode.OK, (await r.Http.GetAsync("/recommend/user/7/ml")).StatusCode);
                await UntilAsync(async () => (await r.Http.GetStringAsync("/metrics")).Contains("recsys_model_in_sync 0", StringComparison.Ordinal) ? 1 : 0, n => n == 1, TimeSpan.FromSeconds(10));
            }
            await _db.ExecuteAsync($"UPDATE recsys_model_registry SET current_version = '{second}'; SELECT pg_notify('recsys_model', '{second}')");
            Directory.Delete(Path.Combine(_storage.Path, "models", broken), recursive: true);

            // A replica killed, a rollback while it is down, and its restart: it starts on the version now current.
            await replicas[2].KillAsync();
            await replicas[2].DisposeAsync();
            var rollback = await one.Http.SendAsync(Admin("/admin/models/rollback"));
            Assert.True(rollback.IsSuccessStatusCode, await rollback.Content.ReadAsStringAsync());
            replicas[2] = await StartReplicaAsync();
            await UntilAllServeAsync(replicas, v => v == first, TimeSpan.FromSeconds(30));

            // The database ends every subscription (as a restart does): the replicas subscribe again, and
            // follow the next promotion by its notification (the periodic check is a minute apart here).
            long cut = await _db.ScalarAsync("SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint");
            Assert.True(await _db.ScalarAsync("SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'recsys-follower') t") >= 3);
            await UntilAsync(() => _db.ScalarAsync($"SELECT count(*) FROM pg_stat_activity WHERE application_name = 'recsys-follower' AND backend_start > to_timestamp({cut} / 1000.0)"),
                n => n == 3, TimeSpan.FromSeconds(20));
            // New sessions exist only after the old ones were found dead; listening again once LISTEN ran on them.
            foreach (var r in replicas) await UntilAsync(r, m => m["cluster"]?["listening"]?.GetValue<bool>() == true, TimeSpan.FromSeconds(20));
            var promote = await replicas[1].Http.SendAsync(Admin($"/admin/models/{second}/promote"));
            Assert.True(promote.IsSuccessStatusCode, await promote.Content.ReadAsStringAsync());
            await UntilAllServeAsync(replicas, v => v == second, ByNotification);
            foreach (var r in replicas) await UntilAsync(r, m => m["cluster"]?["listening"]?.GetValue<bool>() == true, TimeSpan.FromSeconds(15));
        }
        finally
        {
            foreach (var r in replicas) await r.DisposeAsync();
        }
    }

    private static HttpRequestMessage Admin(string path) =>
        new(HttpMethod.Post, path) { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", Token) } };

    private async Task<string> TrainerOfAsync(string version)
    {
        await using var c = new Npgsql.NpgsqlConnection(_db.ConnectionString);
        await c.OpenAsync();
        await using var cmd = new Npgsql.NpgsqlCommand("SELECT node FROM recsys_trainings WHERE version = $1", c);
        cmd.Parameters.Add(new Npgsql.NpgsqlParameter { Value = version });
        return (string)(await cmd.ExecuteScalarAsync())!;
    }

    private static async Task<JsonObject> ModelAsync(ServerProcess replica) =>
        JsonNode.Parse(await replica.Http.GetStringAsync("/model"))!.AsObject();

    private static async Task<JsonObject> UntilAsync(ServerProcess replica, Func<JsonObject, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var model = await ModelAsync(replica);
            if (condition(model)) return model;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"/model never met the condition: {model.ToJsonString()}\n{replica.Log}");
            await Task.Delay(100);
        }
    }

    private static async Task UntilAsync(Func<Task<long>> read, Func<long, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        long value;
        while (!condition(value = await read()))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the condition never held (last value {value})");
            await Task.Delay(50);
        }
    }

    private static Task<string> UntilAllServeAnyAsync(IReadOnlyList<ServerProcess> replicas, TimeSpan timeout) =>
        UntilAllServeAsync(replicas, _ => true, timeout);

    /// <summary>Polls every replica's /model until all serve one version that <paramref name="wanted"/> accepts; returns it.</summary>
    private static async Task<string> UntilAllServeAsync(IReadOnlyList<ServerProcess> replicas, Func<string, bool> wanted, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var versions = await Task.WhenAll(replicas.Select(async r => (string?)(await ModelAsync(r))["version"]));
            if (versions[0] is { } v && wanted(v) && versions.All(x => x == v)) return v;
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"replicas serve {string.Join(", ", versions.Select(x => x ?? "nothing"))}\n{string.Join("\n---\n", replicas.Select(r => r.Log))}");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>A round-robin client over the replicas (what a load balancer sends), 4 at a time, counting every answer that is not 2xx.</summary>
    private sealed class RoundRobinLoad : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task<(int Ok, int Failed, List<string> Errors)>[] _workers;

        public RoundRobinLoad(IReadOnlyList<ServerProcess> replicas)
        {
            _workers = [.. Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
            {
                int ok = 0, failed = 0, i = w;
                var errors = new List<string>();
                while (!_stop.IsCancellationRequested)
                {
                    var replica = replicas[i % replicas.Count];
                    string path = i % 2 == 0 ? $"/recommend/user/{i % 300}/ml" : $"/recommend/user/{i % 300}";
                    i++;
                    try
                    {
                        using var answer = await replica.Http.GetAsync(path);
                        if (answer.IsSuccessStatusCode) ok++;
                        else if (errors.Count < 10) { failed++; errors.Add($"{path}: {(int)answer.StatusCode}"); }
                        else failed++;
                    }
                    catch (HttpRequestException e)
                    {
                        failed++;
                        if (errors.Count < 10) errors.Add($"{path}: {e.Message}");
                    }
                }
                return (ok, failed, errors);
            }))];
        }

        public async Task<(int Ok, int Failed, List<string> Errors)> StopAsync()
        {
            _stop.Cancel();
            var results = await Task.WhenAll(_workers);
            return (results.Sum(r => r.Ok), results.Sum(r => r.Failed), [.. results.SelectMany(r => r.Errors)]);
        }

        public void Dispose() => _stop.Cancel();
    }
}
