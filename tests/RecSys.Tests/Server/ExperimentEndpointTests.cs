using System.Net;
using Microsoft.Extensions.DependencyInjection;
using RecSys.Server.Configuration;
using RecSys.Server.Experiments;
using static RecSys.Tests.Server.Experiments;
using static RecSys.Tests.Server.PlayEvents;

namespace RecSys.Tests.Server;

/// <summary>Experiments through the real Kestrel pipeline on the embedded stores: the admin API, headers, arms, exposures, the report.</summary>
public sealed class ExperimentEndpointTests
{
    [Fact]
    public async Task Admin_api_creates_lists_versions_and_refuses_what_is_wrong()
    {
        await using var server = await TestServer.StartAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, (await CreateAsync(server, MlVsPop, token: null)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await CreateAsync(server, MlVsPop, token: "wrong-token-0123456789")).Status);
        var (status, body) = await CreateAsync(server, MlVsPop);
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(1, (int)body!["version"]!);
        Assert.True((bool)body["serving"]!);
        Assert.Equal("running", (string)body["status"]!);

        var bad = await CreateAsync(server, """{"id":"x","arms":[{"name":"a","strategy":"ml"},{"name":"b","strategy":"model:19990101T000000000Z"}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, bad.Status);
        Assert.Contains("model version 19990101T000000000Z is not in the model store", (string)bad.Body!["detail"]!);
        var overlap = await CreateAsync(server, """{"id":"other","arms":[{"name":"a","strategy":"ml"},{"name":"b","strategy":"legacy"}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, overlap.Status);
        Assert.Contains("ml-vs-pop already covers", (string)overlap.Body!["detail"]!);
        var moved = await CreateAsync(server, MlVsPop.Replace("\"weight\":50,\"strategy\":\"popularity\"", "\"weight\":10,\"strategy\":\"popularity\""));
        Assert.Equal(HttpStatusCode.BadRequest, moved.Status);
        Assert.Contains("salt, arms and weights cannot change", (string)moved.Body!["detail"]!);
        Assert.Equal(HttpStatusCode.BadRequest, (await CreateAsync(server, "{\"id\":")).Status);

        // A disjoint layer may run beside it; a change that moves nobody makes a new version.
        Assert.Equal(HttpStatusCode.Created, (await CreateAsync(server,
            """{"id":"legacy-half","arms":[{"name":"a","strategy":"legacy"},{"name":"b","strategy":"ml"}],"endpoints":["/recommend/user/{user_id}"],"layer":{"from":0,"to":50}}""")).Status);
        var second = await CreateAsync(server, MlVsPop.Replace("\"salt\":\"s1\",", "\"salt\":\"s1\",\"attribution_window_hours\":6,"));
        Assert.Equal(HttpStatusCode.OK, second.Status);
        Assert.Equal(2, (int)second.Body!["version"]!);
        var list = await GetAsync(server, "/admin/experiments");
        Assert.Equal(["legacy-half", "ml-vs-pop"], list["experiments"]!.AsArray().Select(e => (string)e!["id"]!));
        var shown = await GetAsync(server, "/admin/experiments/ml-vs-pop");
        Assert.Equal(2, shown["versions"]!.AsArray().Count);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.SendAsync(Get("/admin/experiments/nope"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.SendAsync(Get("/admin/experiments/nope/report"))).StatusCode);
    }

    private static HttpRequestMessage Get(string path)
    {
        var m = new HttpRequestMessage(HttpMethod.Get, path);
        m.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestServer.Token);
        return m;
    }

    [Fact]
    public async Task Experiments_from_the_configuration_file_are_stored_once_per_change()
    {
        using var dir = new TempDir();
        string storage = Path.Combine(dir.Path, "store"), file = Path.Combine(dir.Path, "experiments.json");
        File.WriteAllText(file, "[" + MlVsPop + "]");
        Func<RecSys.Server.Configuration.ServerOptions, RecSys.Server.Configuration.ServerOptions> configure = o =>
        {
            o.Storage = storage;
            o.Experiments.File = file;
            return o;
        };
        for (int start = 0; start < 2; start++)
        {
            await using var server = await TestServer.StartAsync(configure);
            var shown = await GetAsync(server, "/admin/experiments/ml-vs-pop");
            Assert.Equal(1, (int)shown["version"]!);
            Assert.True((bool)shown["serving"]!);
            Assert.Equal("ml-vs-pop", (await AnswerAsync(server.Http, "/recommend/user/1/ml")).Experiment);
        }
        File.WriteAllText(file, "[" + MlVsPop.Replace("\"salt\":\"s1\",", "\"salt\":\"s1\",\"attribution_window_hours\":2,") + "]");
        await using (var server = await TestServer.StartAsync(configure))
        {
            Assert.Equal(2, (int)(await GetAsync(server, "/admin/experiments/ml-vs-pop"))["version"]!);
        }
        // Stopped through the API: the file (without a stop) does not restart it.
        await using (var server = await TestServer.StartAsync(configure))
        {
            Assert.Equal(HttpStatusCode.OK, (await server.Http.SendAsync(server.Admin("/admin/experiments/ml-vs-pop/stop"))).StatusCode);
        }
        await using (var server = await TestServer.StartAsync(configure))
        {
            var shown = await GetAsync(server, "/admin/experiments/ml-vs-pop");
            Assert.Equal(3, (int)shown["version"]!);
            Assert.Equal("stopped", (string)shown["status"]!);
            Assert.Null((await AnswerAsync(server.Http, "/recommend/user/1/ml")).Experiment);
        }
        File.WriteAllText(file, "[{\"id\":\"broken\"}]");
        var e = await Assert.ThrowsAnyAsync<Exception>(() => TestServer.StartAsync(configure));
        Assert.Contains("RecSys:Experiments:File", e.Message);
        Assert.Contains("arms must be an array", e.Message);
    }

    [Fact]
    public async Task Covered_answers_carry_the_headers_and_serve_their_arm()
    {
        await using var server = await TestServer.StartAsync();
        Assert.Equal(HttpStatusCode.Created, (await CreateAsync(server,
            """{"id":"ml-vs-pop","salt":"s1","arms":[{"name":"control","strategy":"ml"},{"name":"pop","strategy":"popularity"}],"layer":{"from":0,"to":60},"overrides":{"7":"pop"}}""")).Status);
        Assert.Equal(HttpStatusCode.Created, (await CreateAsync(server,
            """{"id":"legacy-vs-ml","arms":[{"name":"legacy","strategy":"legacy"},{"name":"ml","strategy":"ml"}],"endpoints":["/recommend/user/{user_id}"]}""")).Status);
        var popular = (await AnswerAsync(server.Http, "/recommend/user/999999/ml?limit=10")).Tracks; // unknown and without plays: popularity
        var ids = new HashSet<string>();
        int inExperiment = 0, pop = 0;
        for (long user = 1; user <= 60; user++)
        {
            var answer = await AnswerAsync(server.Http, $"/recommend/user/{user}/ml?limit=10");
            double layer = RecSys.Engine.Experiments.ExperimentSet.LayerPosition(user);
            if (layer >= 60 && user != 7)
            {
                Assert.Null(answer.Experiment);
                Assert.Null(answer.RecommendationId);
                continue;
            }
            inExperiment++;
            Assert.Equal("ml-vs-pop", answer.Experiment);
            Assert.True(ids.Add(answer.RecommendationId!), "recommendation ids are unique");
            Assert.Equal(32, answer.RecommendationId!.Length);
            if (answer.Arm == "pop")
            {
                pop++;
                Assert.Equal("popularity", answer.Source);
                Assert.Equal(popular, answer.Tracks);
            }
            else
            {
                Assert.Equal("control", answer.Arm);
                Assert.NotEqual("popularity", answer.Source);
                // The control arm is the answer the endpoint gives outside the experiment, cache included: the same again.
                Assert.Equal(answer.Tracks, (await AnswerAsync(server.Http, $"/recommend/user/{user}/ml?limit=10")).Tracks);
            }
            // Stable: the same arm on every request.
            Assert.Equal(answer.Arm, (await AnswerAsync(server.Http, $"/recommend/user/{user}/ml?limit=10")).Arm);
        }
        Assert.InRange(pop, 5, inExperiment - 5);
        Assert.Equal("pop", (await AnswerAsync(server.Http, "/recommend/user/7/ml")).Arm);

        // The legacy endpoint's experiment: its ml arm answers with the model, its legacy arm as before.
        for (long user = 1; user <= 10; user++)
        {
            var answer = await AnswerAsync(server.Http, $"/recommend/user/{user}");
            Assert.Equal("legacy-vs-ml", answer.Experiment);
            if (answer.Arm == "legacy") Assert.Equal("legacy", answer.Source);
            else Assert.Equal("ml", answer.Source);
        }
        var similar = await server.Http.GetAsync("/recommend/similar/" + popular[0]);
        Assert.False(similar.Headers.Contains("X-Experiment"));

        // Stopped: the default answer again, without headers.
        using (var stop = server.Admin("/admin/experiments/ml-vs-pop/stop")) Assert.Equal(HttpStatusCode.OK, (await server.Http.SendAsync(stop)).StatusCode);
        Assert.Null((await AnswerAsync(server.Http, "/recommend/user/7/ml")).Experiment);
        Assert.Equal(HttpStatusCode.OK, (await server.Http.SendAsync(server.Admin("/admin/experiments/ml-vs-pop/stop"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.SendAsync(server.Admin("/admin/experiments/none/stop"))).StatusCode);
    }

    [Fact]
    public async Task A_model_version_arm_answers_from_that_version_and_keeps_it_in_the_store()
    {
        await using var server = await TestServer.StartAsync(o =>
        {
            o.KeepVersions = 1;
            return o;
        });
        string first = server.Host.Current!.Version;
        Assert.True(server.Training.TryStart("test", out var run));
        await run!;
        string second = server.Host.Current!.Version;
        Assert.NotEqual(first, second);
        Assert.Equal(HttpStatusCode.Created, (await CreateAsync(server,
            $$$"""{"id":"v1-vs-v2","arms":[{"name":"new","strategy":"ml"},{"name":"old","strategy":"model:{{{first}}}"}],"overrides":{"5":"old","6":"new"}}""")).Status);
        var old = server.App.Services.GetRequiredService<ExperimentService>().Challenger(first)!;
        Assert.Equal(first, old.Version);
        int user = old.Model.UserIndex.IndexOf(5);
        var expected = old.Recommender.RecommendUser(user, 10).Select(s => old.Model.TrackIds[s.Index]).ToArray();
        var answer = await AnswerAsync(server.Http, "/recommend/user/5/ml?limit=10");
        Assert.Equal("old", answer.Arm);
        Assert.Equal(expected, answer.Tracks);
        var current = server.Host.Current!;
        var mine = current.Recommender.RecommendUser(current.Model.UserIndex.IndexOf(6), 10).Select(s => current.Model.TrackIds[s.Index]).ToArray();
        Assert.Equal(mine, (await AnswerAsync(server.Http, "/recommend/user/6/ml?limit=10")).Tracks);

        // Two more trainings with one version kept: the arm's version stays, the one between goes.
        for (int i = 0; i < 2; i++)
        {
            Assert.True(server.Training.TryStart("test", out var next));
            await next!;
        }
        Assert.Contains(first, server.Host.Store.Versions());
        Assert.DoesNotContain(second, server.Host.Store.Versions());
        Assert.Equal(expected, (await AnswerAsync(server.Http, "/recommend/user/5/ml?limit=10")).Tracks);
    }

    [Fact]
    public async Task An_arm_may_recommend_tracks_the_user_already_played()
    {
        await using var server = await TestServer.StartAsync();
        Assert.Equal(HttpStatusCode.Created, (await CreateAsync(server,
            """{"id":"relisten","arms":[{"name":"control","strategy":"ml"},{"name":"relisten","strategy":"ml","exclude_heard":false}],"overrides":{"5":"relisten","6":"control"}}""")).Status);
        var current = server.Host.Current!;
        long[] Expected(long userId, bool excludeHeard)
        {
            int user = current.Model.UserIndex.IndexOf(userId);
            return [.. current.Recommender.RecommendUser(user, 20, excludeHeard).Select(s => current.Model.TrackIds[s.Index])];
        }
        var relisten = await AnswerAsync(server.Http, "/recommend/user/5/ml");
        Assert.Equal("relisten", relisten.Arm);
        Assert.Equal(Expected(5, excludeHeard: false), relisten.Tracks);
        var heard = current.Model.UserItems!.RowIndices(current.Model.UserIndex.IndexOf(5)).ToArray().Select(i => current.Model.TrackIds[i]).ToHashSet();
        Assert.Contains(relisten.Tracks, heard.Contains);
        Assert.Equal(Expected(6, excludeHeard: true), (await AnswerAsync(server.Http, "/recommend/user/6/ml")).Tracks);
        var refused = await CreateAsync(server, """{"id":"x","arms":[{"name":"a","strategy":"ml"},{"name":"b","strategy":"popularity","exclude_heard":false}],"layer":{"from":0,"to":1}}""");
        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Contains("exclude_heard: false applies to ml and model:<version> arms only", (string)refused.Body!["detail"]!);
    }

    [Fact]
    public async Task Exposures_survive_a_restart_and_plays_of_shown_tracks_fill_the_report()
    {
        using var dir = new TempDir();
        string storage = Path.Combine(dir.Path, "store");
        var shown = new Dictionary<long, long[]>();
        var arms = new Dictionary<long, string>();
        await using (var server = await TestServer.StartAsync(o =>
        {
            o.Storage = storage;
            return o;
        }))
        {
            Assert.Equal(HttpStatusCode.Created, (await CreateAsync(server, MlVsPop)).Status);
            for (long user = 1; user <= 80; user++)
            {
                var answer = await AnswerAsync(server.Http, $"/recommend/user/{user}/ml?limit=5");
                shown[user] = answer.Tracks;
                arms[user] = answer.Arm!;
            }
            // Half the users play the first track they were shown, a third a track they were not.
            var events = shown.Where(s => s.Key % 2 == 0).Select(s => Json($"e{s.Key}", s.Key, s.Value[0], milestone: 80, completed: false))
                .Concat(shown.Where(s => s.Key % 3 == 0).Select(s => Json($"n{s.Key}", s.Key, 9_999_999)));
            await AcceptedAsync(server.Http, [.. events]);
        }
        await using (var server = await TestServer.StartAsync(o =>
        {
            o.Storage = storage;
            return o;
        }))
        {
            var report = await GetAsync(server, "/admin/experiments/ml-vs-pop/report");
            Assert.Equal(80, Arm(report, "control")["users"]!.GetValue<int>() + Arm(report, "pop")["users"]!.GetValue<int>());
            Assert.Equal(80, Arm(report, "control")["exposures"]!.GetValue<long>() + Arm(report, "pop")["exposures"]!.GetValue<long>());
            foreach (string arm in new[] { "control", "pop" })
            {
                long expected = shown.Keys.Count(u => u % 2 == 0 && arms[u] == arm);
                Assert.Equal(expected, Arm(report, arm)["plays_from_recommendations"]!.GetValue<long>());
                double perExposure = expected / (double)arms.Values.Count(a => a == arm);
                Assert.Equal(perExposure, (double)Arm(report, arm)["metrics"]!["plays_per_exposure"]!["mean"]!, 12);
                Assert.Equal(0.0, (double)Arm(report, arm)["metrics"]!["completion_rate"]!["mean"]!, 12);
            }
            Assert.NotNull(report["srm_p_value"]);
            Assert.NotNull(Arm(report, "pop")["metrics"]!["plays_per_exposure"]!["p_value"]);
            string metrics = await server.Http.GetStringAsync("/metrics");
            Assert.Contains("recsys_exposures_dropped_total 0", metrics);
        }
        // The command line reads the same stores beside (or without) a server: the same report.
        var cli = await RecsysCli.RunAsync("ab", "report", "ml-vs-pop", "--storage", storage, "--json");
        Assert.True(cli.ExitCode == 0, cli.Stderr);
        var fromCli = System.Text.Json.Nodes.JsonNode.Parse(cli.Stdout)!;
        Assert.Equal(Arm(fromCli, "pop")["plays_from_recommendations"]!.GetValue<long>(), shown.Keys.Count(u => u % 2 == 0 && arms[u] == "pop"));
    }
}
