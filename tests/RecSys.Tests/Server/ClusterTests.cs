using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using static RecSys.Tests.Server.Replicas;

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
        _db.Execute("DROP TABLE IF EXISTS recsys_model_registry, recsys_model_changes, recsys_model_versions, recsys_trainings, recsys_play_feed; " +
            "DROP SEQUENCE IF EXISTS recsys_play_feed_numbers");
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

    [Fact]
    public async Task Experiments_assign_alike_and_a_play_on_one_replica_changes_answers_on_every_replica_and_a_training_anywhere_retires_it_everywhere()
    {
        var replicas = await Task.WhenAll(StartReplicaAsync(), StartReplicaAsync(), StartReplicaAsync());
        try
        {
            string first = await UntilAllServeAnyAsync(replicas, TimeSpan.FromMinutes(3));
            foreach (var r in replicas) await UntilAsync(r, m => m["cluster"]?["listening"]?.GetValue<bool>() == true, TimeSpan.FromSeconds(20));
            // An experiment started on one replica: every replica puts each listener in the same arm.
            using (var create = Admin("/admin/experiments"))
            {
                create.Content = new StringContent(Experiments.MlVsPop, System.Text.Encoding.UTF8, "application/json");
                var created = await replicas[0].Http.SendAsync(create);
                Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
            }
            foreach (var r in replicas)
            {
                await UntilAsync(async () => (await Experiments.AnswerAsync(r.Http, "/recommend/user/1/ml")).Experiment == "ml-vs-pop" ? 1 : 0, n => n == 1, TimeSpan.FromSeconds(30));
            }
            for (int u = 1; u <= 40; u++)
            {
                var arms = await Task.WhenAll(replicas.Select(async r => (await Experiments.AnswerAsync(r.Http, $"/recommend/user/{u}/ml")).Arm));
                Assert.True(arms.Distinct().Count() == 1, $"user {u}: arms {string.Join(", ", arms)}");
            }
            using (var stop = Admin("/admin/experiments/ml-vs-pop/stop")) Assert.True((await replicas[1].Http.SendAsync(stop)).IsSuccessStatusCode);
            foreach (var r in replicas)
            {
                await UntilAsync(async () => (await Experiments.AnswerAsync(r.Http, "/recommend/user/1/ml")).Experiment is null ? 1 : 0, n => n == 1, TimeSpan.FromSeconds(30));
            }

            long user = (long)JsonNode.Parse(await replicas[0].Http.GetStringAsync("/users/random"))!["user_id"]!;
            long track = (await PlayEvents.PersonalAsync(replicas[1].Http, user)).Tracks[0];

            // Played on replica 0: on the other two (by notification), the track is heard now and never recommended.
            await PlayEvents.AcceptedAsync(replicas[0].Http, PlayEvents.Json(Guid.NewGuid().ToString("N"), user, track));
            foreach (var r in replicas)
            {
                await UntilAsync(async () => (await PlaysAsync(r, user)).Any(p => p.Track == track && p.SinceTraining) ? 1 : 0, n => n == 1, ByNotification);
                Assert.DoesNotContain(track, (await PlayEvents.PersonalAsync(r.Http, user)).Tracks);
            }
            Assert.Equal(0, (long)(await ModelAsync(replicas[0]))["events"]!["from_other_replicas"]!["received"]!);
            foreach (var r in replicas.Skip(1)) Assert.Equal(1, (long)(await ModelAsync(r))["events"]!["from_other_replicas"]!["received"]!);

            // Trained on replica 2: every replica, the one that received the play included, finds it in the model and holds it live no more.
            using (var train = Admin("/admin/train")) Assert.Equal(System.Net.HttpStatusCode.Accepted, (await replicas[2].Http.SendAsync(train)).StatusCode);
            string second = await UntilAllServeAsync(replicas, v => v != first, TimeSpan.FromMinutes(3));
            foreach (var r in replicas)
            {
                var model = await UntilAsync(r, m => m["events"]?["listeners_with_plays_since_training"]?.GetValue<int>() == 0, TimeSpan.FromSeconds(15));
                Assert.Equal(second, (string?)model["version"]);
                Assert.Contains(await PlaysAsync(r, user), p => p.Track == track && !p.SinceTraining);
            }

            // A rollback to the model that lacks the play: every replica holds it live again (from the shared feed), once.
            var rollback = await replicas[1].Http.SendAsync(Admin("/admin/models/rollback"));
            Assert.True(rollback.IsSuccessStatusCode, await rollback.Content.ReadAsStringAsync());
            await UntilAllServeAsync(replicas, v => v == first, ByNotification);
            foreach (var r in replicas)
            {
                await UntilAsync(async () => (await PlaysAsync(r, user)).Any(p => p.Track == track && p.SinceTraining) ? 1 : 0, n => n == 1, TimeSpan.FromSeconds(15));
                Assert.Equal(1, (await PlaysAsync(r, user)).Single(p => p.Track == track && p.SinceTraining).Plays);
            }

            // A replica started now replays what the served model has not seen, whichever replica received it.
            long other = (await PlayEvents.PersonalAsync(replicas[2].Http, user)).Tracks[0];
            await PlayEvents.AcceptedAsync(replicas[2].Http, PlayEvents.Json(Guid.NewGuid().ToString("N"), user, other));
            await replicas[0].KillAsync();
            await replicas[0].DisposeAsync();
            replicas[0] = await StartReplicaAsync();
            await UntilAllServeAsync(replicas, v => v == first, TimeSpan.FromSeconds(60));
            var replayed = await PlaysAsync(replicas[0], user);
            Assert.Equal(1, replayed.Single(p => p.Track == track && p.SinceTraining).Plays);
            Assert.Equal(1, replayed.Single(p => p.Track == other && p.SinceTraining).Plays);
        }
        finally
        {
            foreach (var r in replicas) await r.DisposeAsync();
        }
    }

    private static HttpRequestMessage Admin(string path) => Replicas.Admin(path, Token);

    private static Task<List<(long Track, bool SinceTraining, double Plays)>> PlaysAsync(ServerProcess replica, long user) =>
        Replicas.PlaysAsync(replica, user, Token);

    private async Task<string> TrainerOfAsync(string version)
    {
        await using var c = new Npgsql.NpgsqlConnection(_db.ConnectionString);
        await c.OpenAsync();
        await using var cmd = new Npgsql.NpgsqlCommand("SELECT node FROM recsys_trainings WHERE version = $1", c);
        cmd.Parameters.Add(new Npgsql.NpgsqlParameter { Value = version });
        return (string)(await cmd.ExecuteScalarAsync())!;
    }
}
