using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace RecSys.Tests.Server;

/// <summary>Experiment requests for the server tests.</summary>
public static class Experiments
{
    public const string MlVsPop = """{"id":"ml-vs-pop","salt":"s1","arms":[{"name":"control","weight":50,"strategy":"ml"},{"name":"pop","weight":50,"strategy":"popularity"}]}""";

    public static async Task<(HttpStatusCode Status, JsonNode? Body)> CreateAsync(TestServer server, string json, string? token = TestServer.Token)
    {
        using var request = server.Admin("/admin/experiments", token);
        request.Content = new StringContent(json, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
        using var response = await server.Http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    public static async Task<JsonNode> GetAsync(TestServer server, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestServer.Token);
        using var response = await server.Http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }

    /// <summary>One answer's experiment headers (null where absent) and its tracks.</summary>
    public static async Task<(string? Experiment, string? Arm, string? RecommendationId, string? Source, long[] Tracks)> AnswerAsync(HttpClient http, string path)
    {
        using var r = await http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var body = JsonNode.Parse(await r.Content.ReadAsStringAsync())!.AsArray();
        string? Header(string name) => r.Headers.TryGetValues(name, out var v) ? v.Single() : null;
        return (Header("X-Experiment"), Header("X-Arm"), Header("X-Recommendation-Id"), Header("X-Recommendation-Source"),
            [.. body.Select(e => (long)e!["track_id"]!)]);
    }

    public static JsonNode Arm(JsonNode report, string name) => report["arms"]!.AsArray().Single(a => (string)a!["name"]! == name)!;
}
