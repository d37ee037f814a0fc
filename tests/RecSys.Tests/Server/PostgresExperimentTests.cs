using System.Net;
using Npgsql;
using RecSys.Engine.Data;
using static RecSys.Tests.Server.Experiments;

namespace RecSys.Tests.Server;

/// <summary>
/// Experiments on a database: definitions and exposures in PostgreSQL tables, and the report built from
/// the interactions table alone (plays a client wrote there directly, no events).
/// </summary>
public sealed class PostgresExperimentTests(PostgresFixture db) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task Report_attributes_plays_written_straight_into_the_interactions_table()
    {
        await db.SeedDemoAsync();
        var shown = new Dictionary<long, (string Arm, long[] Tracks)>();
        await using (var server = await TestServer.StartAsync(o =>
        {
            o.Db = db.ConnectionString;
            return o;
        }))
        {
            Assert.Equal(HttpStatusCode.Created, (await CreateAsync(server, MlVsPop)).Status);
            for (long user = 1; user <= 60; user++)
            {
                var answer = await AnswerAsync(server.Http, $"/recommend/user/{user}/ml?limit=5");
                shown[user] = (answer.Arm!, answer.Tracks);
            }
        }
        // Stopping the server stored every exposure.
        Assert.Equal(60, await db.ScalarAsync("SELECT count(*) FROM recsys_exposures WHERE experiment = 'ml-vs-pop'"));
        Assert.Equal(1, await db.ScalarAsync("SELECT count(*) FROM recsys_experiments WHERE id = 'ml-vs-pop'"));
        // The client's own writes: a completed play of the first shown track by users divisible by 3, an hour later.
        var players = shown.Keys.Where(u => u % 3 == 0).ToArray();
        await db.ExecuteAsync(string.Join(";", players.Select(u =>
            $"INSERT INTO interactions (user_id, track_id, milestone, is_completed, created_at) VALUES ({u}, {shown[u].Tracks[0]}, 100, true, now() + interval '1 hour')")));
        // A play of a track nobody was shown, and one far before the experiment (a covariate).
        await db.ExecuteAsync("INSERT INTO interactions (user_id, track_id, milestone, is_completed, created_at) VALUES (3, 987654321, 100, true, now()), (3, 1, 100, true, now() - interval '3 days')");

        var cli = await RecsysCli.RunAsync("ab", "report", "ml-vs-pop", "--db", db.ConnectionString, "--json");
        Assert.True(cli.ExitCode == 0, cli.Stderr);
        var report = System.Text.Json.Nodes.JsonNode.Parse(cli.Stdout)!;
        foreach (string arm in new[] { "control", "pop" })
        {
            Assert.Equal(shown.Values.Count(s => s.Arm == arm), Arm(report, arm)["users"]!.GetValue<int>());
            Assert.Equal(players.Count(u => shown[u].Arm == arm), Arm(report, arm)["plays_from_recommendations"]!.GetValue<long>());
        }
        Assert.StartsWith("postgres", (string)report["plays_source"]!);

        var list = await RecsysCli.RunAsync("ab", "list", "--db", db.ConnectionString, "--json");
        Assert.Contains("\"ml-vs-pop\"", list.Stdout);
        var stop = await RecsysCli.RunAsync("ab", "stop", "ml-vs-pop", "--db", db.ConnectionString);
        Assert.True(stop.ExitCode == 0, stop.Stderr);
        Assert.Equal(2, await db.ScalarAsync("SELECT count(*) FROM recsys_experiments WHERE id = 'ml-vs-pop'"));
    }

    /// <summary>The legacy endpoint: the other test's experiment covers /ml in this class's database.</summary>
    private const string Legacy = "/recommend/user/{user_id}";

    [Fact]
    public async Task Start_from_the_command_line_and_refuse_what_is_wrong()
    {
        var init = await RecsysCli.RunAsync("db", "init", "--db", db.ConnectionString);
        Assert.True(init.ExitCode == 0, init.Stderr);
        var started = await RecsysCli.RunAsync("ab", "start", "pop-test", "--arm", "control=ml", "--arm", "pop=popularity@3", "--layer", "0-40", "--endpoint", Legacy, "--db", db.ConnectionString, "--json");
        Assert.True(started.ExitCode == 0, started.Stderr);
        var json = System.Text.Json.Nodes.JsonNode.Parse(started.Stdout)!;
        Assert.Equal(3.0, (double)json["arms"]![1]!["weight"]!);
        Assert.Equal(40.0, (double)json["layer"]!["to"]!);
        var overlap = await RecsysCli.RunAsync("ab", "start", "again", "--arm", "a=ml", "--arm", "b=legacy", "--endpoint", Legacy, "--db", db.ConnectionString);
        Assert.Equal(1, overlap.ExitCode);
        Assert.Contains("pop-test already covers", overlap.Stderr);
        var bad = await RecsysCli.RunAsync("ab", "start", "bad", "--arm", "a=ml", "--arm", "b=deep-learning", "--layer", "50-60", "--db", db.ConnectionString);
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("'deep-learning' is not a strategy", bad.Stderr);
        var unknown = await RecsysCli.RunAsync("ab", "report", "nope", "--db", db.ConnectionString);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("no experiment 'nope'", unknown.Stderr);
    }
}
