using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace RecSys.Tests.Server;

/// <summary>Builds and posts play events (the JSON a client sends) for the server tests.</summary>
public static class PlayEvents
{
    public static string Json(string eventId, long user, long track, int milestone = 100, bool completed = true, string? playedAt = null) =>
        $$"""{"event_id":"{{eventId}}","user_id":{{user}},"track_id":{{track}},"milestone":{{milestone}},"is_completed":{{(completed ? "true" : "false")}}{{(playedAt is null ? "" : $",\"played_at\":\"{playedAt}\"")}}}""";

    public static string Array(IEnumerable<string> events) => "[" + string.Join(",", events) + "]";

    public static async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> PostAsync(HttpClient http, string body, string contentType = "application/json")
    {
        using var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        var r = await http.PostAsync("/events/plays", content);
        string text = await r.Content.ReadAsStringAsync();
        return (r.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone(), r);
    }

    /// <summary>Posts and insists on 202; returns how many were stored and how many were duplicates.</summary>
    public static async Task<(int Stored, int Duplicates)> AcceptedAsync(HttpClient http, params string[] events)
    {
        var (status, body, _) = await PostAsync(http, Array(events));
        Assert.True(status == HttpStatusCode.Accepted, $"{status}: {body}");
        return (body.GetProperty("stored").GetInt32(), body.GetProperty("duplicates").GetInt32());
    }

    public static async Task<(string Source, long[] Tracks)> PersonalAsync(HttpClient http, long user, int limit = 20)
    {
        var r = await http.GetAsync($"/recommend/user/{user}/ml?limit={limit}");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var body = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;
        return (r.Headers.GetValues("X-Recommendation-Source").Single(), body.EnumerateArray().Select(e => e.GetProperty("track_id").GetInt64()).ToArray());
    }
}
