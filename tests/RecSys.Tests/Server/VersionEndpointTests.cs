using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using RecSys.Server.Hosting;
using static RecSys.Tests.Server.Experiments;

namespace RecSys.Tests.Server;

/// <summary>The operator's promote and rollback over HTTP (the console's buttons), and the preview header.</summary>
public sealed class VersionEndpointTests
{
    private static async Task<(HttpStatusCode Status, JsonObject? Body)> PostAsync(TestServer server, string path, string? token = TestServer.Token)
    {
        using var request = server.Admin(path, token);
        using var response = await server.Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonObject>());
    }

    [Fact]
    public async Task Promote_and_rollback_serve_at_once_and_need_the_token()
    {
        await using var server = await TestServer.StartAsync();
        string first = server.Host.Current!.Version;
        string second = await server.TrainAgainAsync();
        Assert.Equal(second, server.Host.Current!.Version);

        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(server, $"/admin/models/{first}/promote", token: null)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(server, "/admin/models/rollback", token: "wrong-token-0123456789")).Status);
        Assert.Equal(second, server.Host.Current!.Version);

        var (status, body) = await PostAsync(server, $"/admin/models/{first}/promote");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(first, (string)body!["version"]!);
        Assert.Equal(first, server.Host.Current!.Version);
        Assert.Equal(first, server.Host.Store.Current);

        var versions = await server.Http.GetFromJsonAsync<JsonObject>("/model/versions");
        Assert.Equal(second, (string)versions!["rollback_target"]!);
        (status, body) = await PostAsync(server, $"/admin/models/rollback?to={second}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(second, (string)body!["version"]!);
        Assert.Equal(second, server.Host.Current!.Version);
        Assert.Equal(second, server.Host.Store.Current);

        // The same click again: the target is now another version, so nothing moves.
        (status, body) = await PostAsync(server, $"/admin/models/rollback?to={second}");
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Contains("nothing changed", (string)body!["detail"]!);
        Assert.Equal(second, server.Host.Current!.Version);
        Assert.Equal(second, server.Host.Store.Current);
        (status, _) = await PostAsync(server, "/admin/models/rollback?to=..%2Fx");
        Assert.Equal(HttpStatusCode.BadRequest, status);
    }

    [Fact]
    public async Task A_version_that_does_not_load_is_refused_and_nothing_moves()
    {
        await using var server = await TestServer.StartAsync();
        string first = server.Host.Current!.Version;
        string second = await server.TrainAgainAsync();
        File.WriteAllBytes(Path.Combine(server.Host.Store.VersionDirectory(first), ModelStore.ModelFileName), [1, 2, 3]);

        var (status, body) = await PostAsync(server, $"/admin/models/{first}/promote");
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Contains("does not load", (string)body!["detail"]!);
        Assert.Equal(second, server.Host.Current!.Version);
        Assert.Equal(second, server.Host.Store.Current);
        Assert.True(server.Host.Store.Broken().ContainsKey(first));

        // The rollback target is now broken too: nothing to go back to, and nothing changes.
        (status, _) = await PostAsync(server, "/admin/models/rollback");
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal(second, server.Host.Current!.Version);

        (status, body) = await PostAsync(server, "/admin/models/20990101T000000000Z/promote");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("no model version", (string)body!["detail"]!);
        (status, body) = await PostAsync(server, "/admin/models/..%2F..%2Fetc/promote");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("version", (string)body!["parameter"]!);
    }

    [Fact]
    public async Task A_preview_gets_the_arms_answer_without_an_exposure()
    {
        using var dir = new TempDir();
        string storage = Path.Combine(dir.Path, "store");
        await using (var server = await TestServer.StartAsync(o =>
        {
            o.Storage = storage;
            return o;
        }))
        {
            Assert.Equal(HttpStatusCode.Created, (await CreateAsync(server, MlVsPop)).Status);
            for (long user = 1; user <= 20; user++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"/recommend/user/{user}/ml?limit=5");
                if (user > 10) request.Headers.Add("X-Recommendation-Preview", "1");
                using var response = await server.Http.SendAsync(request);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.True(response.Headers.Contains("X-Arm"));
            }
        }
        await using (var server = await TestServer.StartAsync(o =>
        {
            o.Storage = storage;
            return o;
        }))
        {
            var report = await GetAsync(server, "/admin/experiments/ml-vs-pop/report");
            Assert.Equal(10, Arm(report, "control")["exposures"]!.GetValue<long>() + Arm(report, "pop")["exposures"]!.GetValue<long>());
        }
    }
}
