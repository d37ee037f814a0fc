using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace RecSys.Tests.Server;

/// <summary>HTTP details a client or a proxy relies on: HEAD, allowed methods, the 401 challenge, response headers, what /model reveals.</summary>
public sealed class HttpHardeningTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private TestServer S => fixture.Server;

    [Theory]
    [InlineData("/health")]
    [InlineData("/ready")]
    [InlineData("/model")]
    [InlineData("/metrics")]
    [InlineData("/recommend/user/1/ml?limit=3")]
    [InlineData("/recommend/user/1?limit=3")]
    public async Task Head_answers_every_get_route_without_a_body(string path)
    {
        var get = await S.Http.GetAsync(path);
        var head = await S.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));
        Assert.Equal(get.StatusCode, head.StatusCode);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        Assert.Equal(get.Content.Headers.ContentType?.MediaType, head.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    public async Task Metrics_answers_get_only(string method)
    {
        var r = await S.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), "/metrics"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, r.StatusCode);
    }

    [Fact]
    public async Task Head_sends_no_body_on_the_wire()
    {
        // HttpClient never reads a body for HEAD, so ask over a raw socket what Kestrel sends.
        var uri = S.Http.BaseAddress!;
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        await socket.ConnectAsync(uri.Host, uri.Port);
        await socket.SendAsync(System.Text.Encoding.ASCII.GetBytes($"HEAD /model HTTP/1.1\r\nHost: {uri.Authority}\r\nConnection: close\r\n\r\n"));
        var received = new MemoryStream();
        var buffer = new byte[8192];
        int n;
        while ((n = await socket.ReceiveAsync(buffer)) > 0) received.Write(buffer, 0, n);
        string response = System.Text.Encoding.ASCII.GetString(received.ToArray());
        Assert.StartsWith("HTTP/1.1 200", response);
        Assert.EndsWith("\r\n\r\n", response);
    }

    [Theory]
    [InlineData("loaded /tmp/store/models/20261202T000000000Z/index-ip.hnsw", "loaded .../index-ip.hnsw")]
    [InlineData("import:/home/me/old/model.npz", "import:.../model.npz")]
    [InlineData("https://cdn.example.com/cover/7.jpg", "https://cdn.example.com/cover/7.jpg")]
    [InlineData("POST /admin/reload first", "POST /admin/reload first")]
    [InlineData("20261202T000000000Z", "20261202T000000000Z")]
    public void Model_redaction_hides_folders_only(string text, string expected)
    {
        var body = new System.Text.Json.Nodes.JsonObject
        {
            ["text"] = text,
            ["nested"] = new System.Text.Json.Nodes.JsonObject { ["list"] = new System.Text.Json.Nodes.JsonArray(text) },
        };
        RecSys.Server.Endpoints.StatusEndpoints.Redact(body);
        Assert.Equal(expected, body["text"]!.GetValue<string>());
        Assert.Equal(expected, body["nested"]!["list"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task A_401_names_its_scheme_and_the_scheme_is_case_insensitive()
    {
        var refused = await S.Http.SendAsync(S.Admin("/admin/reload", token: "wrong-token-0123456789"));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("Bearer", refused.Headers.WwwAuthenticate.Single().Scheme);

        var lower = new HttpRequestMessage(HttpMethod.Post, "/admin/reload");
        lower.Headers.Authorization = new AuthenticationHeaderValue("bearer", TestServer.Token);
        Assert.Equal(HttpStatusCode.OK, (await S.Http.SendAsync(lower)).StatusCode);
    }

    [Theory]
    [InlineData("/recommend/user/1/ml?limit=3")]
    [InlineData("/model")]
    [InlineData("/no/such/route")]
    public async Task Answers_say_nosniff_and_no_store(string path)
    {
        var r = await S.Http.GetAsync(path);
        Assert.Equal("nosniff", r.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.True(r.Headers.CacheControl!.NoStore);
    }

    [Fact]
    public async Task A_500_from_an_exception_still_says_nosniff_and_no_store()
    {
        await using var s = await TestServer.StartAsync(waitReady: false, mapMore: app => app.MapGet("/test/throws", IResult () => throw new InvalidOperationException("boom")));
        var r = await s.Http.GetAsync("/test/throws");
        Assert.Equal(HttpStatusCode.InternalServerError, r.StatusCode);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType!.MediaType);
        Assert.Equal("nosniff", r.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.True(r.Headers.CacheControl!.NoStore);
        Assert.DoesNotContain("boom", await r.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Model_shows_no_folders_of_the_host()
    {
        await S.Http.SendAsync(S.Admin("/admin/reload"));
        string body = await S.Http.GetStringAsync("/model");
        Assert.DoesNotContain(S.Host.Store.Root, body);
        Assert.DoesNotContain(Path.GetTempPath(), body);
    }
}
