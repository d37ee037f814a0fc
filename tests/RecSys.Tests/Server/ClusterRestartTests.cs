using System.Net;
using Npgsql;
using static RecSys.Tests.Server.Replicas;

namespace RecSys.Tests.Server;

/// <summary>
/// Three replicas on a PostgreSQL of this test's own, restarted (stopped, down for seconds, started)
/// while a round-robin client runs: every request is answered throughout, a play sent while it is
/// down is refused with 503, and afterwards the replicas are subscribed again, follow a rollback by its
/// notification, and store the play sent again once and share it.
/// </summary>
public sealed class ClusterRestartTests : IDisposable
{
    private const string Token = "cluster-restart-token";
    private readonly PrivatePostgres _pg = new();
    private readonly TempDir _storage = new();

    public void Dispose()
    {
        _storage.Dispose();
        _pg.Dispose();
    }

    private Task<ServerProcess> StartReplicaAsync() =>
        ServerProcess.StartAsync(_storage.Path, new NpgsqlConnectionStringBuilder(_pg.ConnectionString) { Pooling = true }.ConnectionString,
            "--admin-token", Token, "--set", "Cluster:PollMilliseconds=60000");

    [Fact]
    public async Task Replicas_serve_through_a_database_restart_under_load_and_then_follow_and_share_plays_again()
    {
        await using (var c = new NpgsqlConnection(_pg.ConnectionString))
        {
            await c.OpenAsync();
            await Engine.Data.PostgresSchema.CreateAsync(c);
        }
        await new Engine.Data.PostgresImporter(_pg.ConnectionString).ImportDemoAsync(
            Engine.Data.DemoCatalog.Generate(new Engine.Data.DemoOptions { Users = 300, Tracks = 1500, Plays = 30_000, Seed = 5 }));

        var replicas = await Task.WhenAll(StartReplicaAsync(), StartReplicaAsync(), StartReplicaAsync());
        try
        {
            string first = await UntilAllServeAnyAsync(replicas, TimeSpan.FromMinutes(3));
            using (var train = Admin("/admin/train", Token)) Assert.Equal(HttpStatusCode.Accepted, (await replicas[0].Http.SendAsync(train)).StatusCode);
            string second = await UntilAllServeAsync(replicas, v => v != first, TimeSpan.FromMinutes(3));
            foreach (var r in replicas) await UntilAsync(r, m => m["cluster"]?["listening"]?.GetValue<bool>() == true, TimeSpan.FromSeconds(20));

            using var load = new RoundRobinLoad(replicas);
            await Task.Delay(500);
            await Task.Run(_pg.Stop);
            // Down: every replica notices, goes on answering, and says so.
            foreach (var r in replicas)
            {
                var model = await UntilAsync(r, m => m["cluster"]?["listening"]?.GetValue<bool>() == false, TimeSpan.FromSeconds(20));
                Assert.Equal(second, (string?)model["version"]);
            }
            // A play sent meanwhile is refused, saying why (the client retries it later, below).
            long user = (long)System.Text.Json.Nodes.JsonNode.Parse(await replicas[0].Http.GetStringAsync("/users/random"))!["user_id"]!;
            long track = (await PlayEvents.PersonalAsync(replicas[2].Http, user)).Tracks[0];
            string play = PlayEvents.Json(Guid.NewGuid().ToString("N"), user, track);
            var (refused, reason, _) = await PlayEvents.PostAsync(replicas[0].Http, PlayEvents.Array([play]));
            Assert.True(refused == HttpStatusCode.ServiceUnavailable, $"{refused}: {reason}");
            await Task.Delay(2000);
            await Task.Run(_pg.Start);

            // Up again: subscribed anew, a rollback on one replica is followed by all by its notification.
            foreach (var r in replicas) await UntilAsync(r, m => m["cluster"]?["listening"]?.GetValue<bool>() == true, TimeSpan.FromSeconds(30));
            var rollback = await replicas[1].Http.SendAsync(Admin("/admin/models/rollback", Token));
            Assert.True(rollback.IsSuccessStatusCode, await rollback.Content.ReadAsStringAsync());
            await UntilAllServeAsync(replicas, v => v == first, TimeSpan.FromSeconds(30));

            // The refused play, sent again, is stored once and reaches the others.
            Assert.Equal((1, 0), await PlayEvents.AcceptedAsync(replicas[0].Http, play));
            foreach (var r in replicas.Skip(1))
            {
                await UntilAsync(async () => (await PlaysAsync(r, user, Token)).Any(p => p.Track == track && p.SinceTraining) ? 1 : 0, n => n == 1, TimeSpan.FromSeconds(30));
            }

            var (ok, failed, errors) = await load.StopAsync();
            Assert.True(ok > 100, $"only {ok} answers under load");
            Assert.True(failed == 0, $"{failed} failed requests: {string.Join("; ", errors)}");
        }
        finally
        {
            foreach (var r in replicas) await r.DisposeAsync();
        }
    }
}
