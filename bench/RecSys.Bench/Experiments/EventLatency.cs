using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace RecSys.Bench.Experiments;

/// <summary>
/// <c>event-latency [--url http://127.0.0.1:8000] [--samples 500] [--users 10000]</c>: how long after a
/// play's 202 a user's /ml answer reflects it. Per sample: a user's current top track T (GET /ml), a
/// qualified play of T (POST /events/plays), then GET /ml until T is gone; the time from the 202 to
/// that answer. Run it beside a background load (the load command) to measure it under load.
/// </summary>
public static class EventLatency
{
    public static int Run(string[] args)
    {
        var url = new Uri(Experiment.Arg(args, "--url") ?? "http://127.0.0.1:8000");
        int samples = int.Parse(Experiment.Arg(args, "--samples") ?? "500", CultureInfo.InvariantCulture);
        int users = int.Parse(Experiment.Arg(args, "--users") ?? "10000", CultureInfo.InvariantCulture);
        using var http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(10) };
        var latencies = new List<double>(samples);
        int firstReflected = 0, failed = 0;
        string run = Guid.NewGuid().ToString("N")[..8];
        var rng = new Random(7);
        for (int n = 0; n < samples; n++)
        {
            long user = rng.Next(1, users + 1);
            long? top = Top(http, user);
            if (top is not { } track)
            {
                failed++;
                continue;
            }
            string body = $$"""[{"event_id":"lat-{{run}}-{{n}}","user_id":{{user}},"track_id":{{track}},"milestone":100,"is_completed":true}]""";
            using var content = new StringContent(body, Encoding.UTF8);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var posted = http.PostAsync("/events/plays", content).GetAwaiter().GetResult();
            if ((int)posted.StatusCode != 202)
            {
                failed++;
                continue;
            }
            long accepted = Stopwatch.GetTimestamp();
            int asked = 0;
            while (Top(http, user) == track && Stopwatch.GetElapsedTime(accepted) < TimeSpan.FromSeconds(5)) asked++;
            latencies.Add(Stopwatch.GetElapsedTime(accepted).TotalMilliseconds);
            if (asked == 0) firstReflected++;
        }
        latencies.Sort();
        double P(double q) => latencies.Count == 0 ? double.NaN : Math.Round(latencies[Math.Min(latencies.Count - 1, (int)(q * latencies.Count))], 3);
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            url = url.ToString(),
            samples = latencies.Count,
            failed,
            reflected_by_the_first_answer = firstReflected,
            ms_from_202_to_reflecting_answer = new { p50 = P(0.5), p90 = P(0.9), p99 = P(0.99), max = latencies.Count == 0 ? double.NaN : Math.Round(latencies[^1], 3) },
        }));
        return 0;
    }

    private static long? Top(HttpClient http, long user)
    {
        using var r = http.GetAsync($"/recommend/user/{user}/ml?limit=1").GetAwaiter().GetResult();
        if (!r.IsSuccessStatusCode) return null;
        var items = JsonDocument.Parse(r.Content.ReadAsStream()).RootElement;
        return items.GetArrayLength() == 0 ? null : items[0].GetProperty("track_id").GetInt64();
    }
}
