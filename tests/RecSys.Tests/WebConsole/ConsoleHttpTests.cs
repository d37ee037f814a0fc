using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using RecSys.Tests.Server;
using Microsoft.AspNetCore.Http;
using ExperimentRequests = RecSys.Tests.Server.Experiments;
using static RecSys.Tests.Server.PlayEvents;

namespace RecSys.Tests.WebConsole;

/// <summary>
/// What the console stands on, through the real Kestrel pipeline: its files and their headers, a
/// listener's plays, the stored versions, the operator's promote and rollback, and the preview header.
/// </summary>
public sealed class ConsoleHttpTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private TestServer Server => fixture.Server;

    [Theory]
    [InlineData("/", "text/html")]
    [InlineData("/console/app.js", "text/javascript")]
    [InlineData("/console/console.css", "text/css")]
    [InlineData("/console/favicon.svg", "image/svg+xml")]
    public async Task Console_files_carry_a_strict_policy_and_revalidate(string path, string type)
    {
        using var response = await Server.Http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(type, response.Content.Headers.ContentType!.MediaType);
        string policy = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("default-src 'none'", policy);
        Assert.Contains("script-src 'self';", policy);
        Assert.Contains("connect-src 'self'", policy);
        Assert.Contains("frame-ancestors 'none'", policy);
        Assert.DoesNotContain("unsafe", policy);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());

        using var again = new HttpRequestMessage(HttpMethod.Get, path);
        again.Headers.IfNoneMatch.Add(response.Headers.ETag!);
        using var revalidated = await Server.Http.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, revalidated.StatusCode);
    }

    [Fact]
    public async Task The_page_has_no_inline_script_or_style_and_every_module_it_loads_exists()
    {
        string html = await Server.Http.GetStringAsync("/");
        // Every script is a file: a src, and nothing between the tags.
        var scripts = System.Text.RegularExpressions.Regex.Matches(html, @"<script\b([^>]*)>(.*?)</script>", System.Text.RegularExpressions.RegexOptions.Singleline);
        Assert.NotEmpty(scripts);
        Assert.All(scripts, m => Assert.Contains("src=", m.Groups[1].Value));
        Assert.All(scripts, m => Assert.Equal("", m.Groups[2].Value.Trim()));
        Assert.DoesNotContain("<style", html);
        Assert.DoesNotContain("style=", html);
        Assert.DoesNotMatch(@"\son[a-z]+\s*=", html);
        string app = await Server.Http.GetStringAsync("/console/app.js");
        var modules = System.Text.RegularExpressions.Regex.Matches(app, @"from '\./([\w.]+)'").Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.NotEmpty(modules);
        foreach (string module in modules)
        {
            using var response = await Server.Http.GetAsync($"/console/{module}");
            Assert.True(response.IsSuccessStatusCode, $"{module}: {response.StatusCode}");
        }
        using var missing = await Server.Http.GetAsync("/console/nothing.js");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task Turned_off_the_console_is_not_there()
    {
        await using var server = await TestServer.StartAsync(o =>
        {
            o.Console.Enabled = false;
            return o;
        });
        using var page = await server.Http.GetAsync("/");
        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        using var script = await server.Http.GetAsync("/console/app.js");
        Assert.Equal(HttpStatusCode.NotFound, script.StatusCode);
        using var random = await server.Http.GetAsync("/users/random");
        Assert.Equal(HttpStatusCode.OK, random.StatusCode);
    }

    [Fact]
    public void A_cover_source_that_would_break_the_policy_is_refused_at_start_up()
    {
        var options = TestServer.SmallOptions("store");
        options.Console.ImageSources = "https: 'unsafe-inline'; script-src *";
        Assert.Contains(options.Validate(), p => p.StartsWith("RecSys:Console:ImageSources", StringComparison.Ordinal));
        options.Console.ImageSources = "https://covers.example.com data:";
        Assert.Empty(options.Validate());
    }

    /// <summary>A listener endpoint's answer, asked with the admin token (a listener's plays need it on this server).</summary>
    private async Task<JsonObject> PlaysAsync(string path) => (JsonObject)await ExperimentRequests.GetAsync(Server, path);

    [Fact]
    public async Task A_listeners_plays_need_the_token_or_a_local_client_when_no_token_is_set()
    {
        using var anonymous = await Server.Http.GetAsync("/users/1/plays");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using var wrong = new HttpRequestMessage(HttpMethod.Get, "/users/1/plays");
        wrong.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "not-the-token-0123456789");
        Assert.Equal(HttpStatusCode.Unauthorized, (await Server.Http.SendAsync(wrong)).StatusCode);

        await using var local = await TestServer.StartAsync(o =>
        {
            o.AdminToken = null;
            return o;
        });
        using var loopback = await local.Http.GetAsync("/users/1/plays");
        Assert.Equal(HttpStatusCode.OK, loopback.StatusCode);

        // Without a token, a client from the network is refused (the rule itself: a test cannot connect from elsewhere).
        var remote = new DefaultHttpContext();
        remote.Connection.RemoteIpAddress = IPAddress.Parse("192.0.2.7");
        Assert.IsAssignableFrom<IStatusCodeHttpResult>(RecSys.Server.Endpoints.ListenerEndpoints.Allowed(remote, null));
        Assert.Equal(403, ((IStatusCodeHttpResult)RecSys.Server.Endpoints.ListenerEndpoints.Allowed(remote, null)!).StatusCode);
        remote.Connection.RemoteIpAddress = IPAddress.IPv6Loopback;
        Assert.Null(RecSys.Server.Endpoints.ListenerEndpoints.Allowed(remote, null));
    }

    [Fact]
    public async Task A_listeners_plays_are_paged_most_played_first_with_metadata()
    {
        var model = Server.Host.Current!.Model;
        // From the end: the first listeners get play events in another test of this class.
        int row = Enumerable.Range(0, model.UserCount).Last(u => model.UserItems!.RowLength(u) >= 12);
        long user = model.UserIds[row];
        var all = await PlaysAsync($"/users/{user}/plays?limit=500");
        Assert.Equal("model", (string)all!["source"]!);
        Assert.True((bool)all["known_to_model"]!);
        var plays = all["plays"]!.AsArray();
        Assert.Equal(model.UserItems!.RowLength(row), (int)all["total"]!);
        Assert.Equal(plays.Count, (int)all["total"]!);
        var expected = model.UserItems.RowIndices(row).ToArray().Select(i => model.TrackIds[i]).Order();
        Assert.Equal(expected, plays.Select(p => (long)p!["track_id"]!).Order());
        var counts = plays.Select(p => (double)p!["plays"]!).ToList();
        Assert.Equal(counts.OrderDescending(), counts);
        Assert.All(plays, p => Assert.Equal(Server.Host.Catalog.Find((long)p!["track_id"]!)!.Title, (string?)p!["title"]));

        var page = await PlaysAsync($"/users/{user}/plays?limit=5&offset=5");
        Assert.Equal(plays.Skip(5).Take(5).Select(p => (long)p!["track_id"]!), page!["plays"]!.AsArray().Select(p => (long)p!["track_id"]!));
        var beyond = await PlaysAsync($"/users/{user}/plays?offset=100000");
        Assert.Empty(beyond!["plays"]!.AsArray());
    }

    [Fact]
    public async Task Plays_since_training_come_first_most_recent_first()
    {
        long user = Server.Host.Current!.Model.UserIds[3];
        long[] tracks = [.. Server.Host.Current.Model.TrackIds.Take(3)];
        await AcceptedAsync(Server.Http, Json($"c-{user}-a", user, tracks[0]), Json($"c-{user}-b", user, tracks[1]), Json($"c-{user}-c", user, tracks[0]));
        var body = await PlaysAsync($"/users/{user}/plays?limit=3");
        var plays = body!["plays"]!.AsArray();
        Assert.Equal(tracks[0], (long)plays[0]!["track_id"]!);
        Assert.True((bool)plays[0]!["since_training"]!);
        Assert.True((double)plays[0]!["plays"]! >= 2);
        Assert.Equal(tracks[1], (long)plays[1]!["track_id"]!);
        Assert.True((bool)plays[1]!["since_training"]!);

        long stranger = 9_000_000_001;
        await AcceptedAsync(Server.Http, Json("c-stranger", stranger, tracks[2]));
        var unknown = await PlaysAsync($"/users/{stranger}/plays");
        Assert.False((bool)unknown!["known_to_model"]!);
        Assert.Equal("events", (string)unknown["source"]!);
        Assert.Equal(tracks[2], (long)unknown["plays"]![0]!["track_id"]!);
    }

    [Theory]
    [InlineData("/users/abc/plays", "user_id")]
    [InlineData("/users/1/plays?limit=0", "limit")]
    [InlineData("/users/1/plays?limit=100000", "limit")]
    [InlineData("/users/1/plays?offset=-1", "offset")]
    [InlineData("/users/1/plays?offset=x", "offset")]
    public async Task Bad_plays_parameters_are_named(string path, string parameter)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestServer.Token);
        using var response = await Server.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal(parameter, (string)problem!["parameter"]!);
    }

    [Fact]
    public async Task A_random_listener_is_one_the_model_knows()
    {
        for (int i = 0; i < 5; i++)
        {
            var body = await Server.Http.GetFromJsonAsync<JsonObject>("/users/random");
            Assert.True(Server.Host.Current!.Model.UserIndex.IndexOf((long)body!["user_id"]!) >= 0);
        }
    }

    [Fact]
    public async Task Versions_list_their_metrics_and_the_serving_one()
    {
        var body = await Server.Http.GetFromJsonAsync<JsonObject>("/model/versions");
        var versions = body!["versions"]!.AsArray();
        var serving = versions.Single(v => (bool)v!["serving"]!);
        Assert.Equal(Server.Host.Current!.Version, (string)serving!["version"]!);
        Assert.Equal((string)body["serving"]!, (string)serving["version"]!);
        Assert.NotNull(serving["metrics"]!["ndcg@10"]);
        Assert.NotNull(serving["parameters"]!["factors"]);
    }
}
