using System.Net;

namespace RecSys.Tests.Server;

/// <summary>CORS for browser clients: off by default, configured origins only, preflight answered.</summary>
public sealed class CorsTests
{
    private const string App = "https://app.example.com";

    private static HttpRequestMessage Request(HttpMethod method, string path, string origin)
    {
        var m = new HttpRequestMessage(method, path);
        m.Headers.Add("Origin", origin);
        if (method == HttpMethod.Options)
        {
            m.Headers.Add("Access-Control-Request-Method", "GET");
            m.Headers.Add("Access-Control-Request-Headers", "authorization");
        }
        return m;
    }

    private static string? AllowOrigin(HttpResponseMessage r) =>
        r.Headers.TryGetValues("Access-Control-Allow-Origin", out var v) ? v.Single() : null;

    [Fact]
    public async Task Configured_origins_get_preflight_and_simple_answers_others_do_not()
    {
        await using var s = await TestServer.StartAsync(o => { o.Cors.Origins = $"{App}, http://localhost:5000"; return o; });
        var preflight = await s.Http.SendAsync(Request(HttpMethod.Options, "/recommend/user/1/ml", App));
        Assert.Equal(HttpStatusCode.NoContent, preflight.StatusCode);
        Assert.Equal(App, AllowOrigin(preflight));
        Assert.Contains("GET", preflight.Headers.GetValues("Access-Control-Allow-Methods").Single());

        var simple = await s.Http.SendAsync(Request(HttpMethod.Get, "/recommend/user/1/ml?limit=2", App));
        Assert.Equal(HttpStatusCode.OK, simple.StatusCode);
        Assert.Equal(App, AllowOrigin(simple));

        var stranger = await s.Http.SendAsync(Request(HttpMethod.Get, "/recommend/user/1/ml?limit=2", "https://evil.example"));
        Assert.Equal(HttpStatusCode.OK, stranger.StatusCode);
        Assert.Null(AllowOrigin(stranger));
        Assert.Null(AllowOrigin(await s.Http.SendAsync(Request(HttpMethod.Options, "/recommend/user/1/ml", "https://evil.example"))));
    }

    [Fact]
    public async Task Without_origins_no_cors_headers_are_sent()
    {
        await using var s = await TestServer.StartAsync();
        var simple = await s.Http.SendAsync(Request(HttpMethod.Get, "/recommend/user/1/ml?limit=2", App));
        Assert.Null(AllowOrigin(simple));
    }

    [Fact]
    public void An_origin_with_a_path_is_refused_by_name()
    {
        var o = TestServer.SmallOptions("x");
        o.Cors.Origins = "https://app.example.com/index.html";
        Assert.Contains(o.Validate(), p => p.Contains("RecSys:Cors:Origins"));
    }
}
