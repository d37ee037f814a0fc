using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace RecSys.Tests.Server;

/// <summary>What the replica tests ask of several <c>recsys serve</c> processes: their /model, waits on it, admin calls.</summary>
public static class Replicas
{
    public static HttpRequestMessage Admin(string path, string token) =>
        new(HttpMethod.Post, path) { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", token) } };

    public static async Task<JsonObject> ModelAsync(ServerProcess replica) =>
        JsonNode.Parse(await replica.Http.GetStringAsync("/model"))!.AsObject();

    public static async Task<JsonObject> UntilAsync(ServerProcess replica, Func<JsonObject, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var model = await ModelAsync(replica);
            if (condition(model)) return model;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"/model never met the condition: {model.ToJsonString()}\n{replica.Log}");
            await Task.Delay(100);
        }
    }

    public static async Task UntilAsync(Func<Task<long>> read, Func<long, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        long value;
        while (!condition(value = await read()))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the condition never held (last value {value})");
            await Task.Delay(50);
        }
    }

    public static Task<string> UntilAllServeAnyAsync(IReadOnlyList<ServerProcess> replicas, TimeSpan timeout) =>
        UntilAllServeAsync(replicas, _ => true, timeout);

    /// <summary>Polls every replica's /model until all serve one version that <paramref name="wanted"/> accepts; returns it.</summary>
    public static async Task<string> UntilAllServeAsync(IReadOnlyList<ServerProcess> replicas, Func<string, bool> wanted, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var versions = await Task.WhenAll(replicas.Select(async r => (string?)(await ModelAsync(r))["version"]));
            if (versions[0] is { } v && wanted(v) && versions.All(x => x == v)) return v;
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"replicas serve {string.Join(", ", versions.Select(x => x ?? "nothing"))}\n{string.Join("\n---\n", replicas.Select(r => r.Log))}");
            }
            await Task.Delay(100);
        }
    }

    public static async Task<List<(long Track, bool SinceTraining, double Plays)>> PlaysAsync(ServerProcess replica, long user, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/users/{user}/plays?limit=500") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", token) } };
        using var answer = await replica.Http.SendAsync(request);
        Assert.True(answer.IsSuccessStatusCode, await answer.Content.ReadAsStringAsync());
        var body = JsonNode.Parse(await answer.Content.ReadAsStringAsync())!;
        return [.. body["plays"]!.AsArray().Select(p => ((long)p!["track_id"]!, (bool)p["since_training"]!, (double)p["plays"]!))];
    }
}
