using System.Collections.Concurrent;
using System.Net;
using Npgsql;
using RecSys.Engine.Data;
using RecSys.Engine.Events;
using static RecSys.Tests.Server.PlayEvents;

namespace RecSys.Tests.Server;

/// <summary>
/// A server killed with SIGKILL at random moments while clients send (and retry) batches: every
/// event acknowledged with 202 is in the store after the restarts, and none is stored twice. Alone:
/// its child servers and senders take both cores, which would starve the timing of other tests.
/// </summary>
[CollectionDefinition(nameof(EventDurabilityTests), DisableParallelization = true)]
public sealed class EventDurabilityCollection;

[Collection(nameof(EventDurabilityTests))]
public sealed class EventDurabilityTests(PostgresFixture db) : IClassFixture<PostgresFixture>
{
    private const int Rounds = 3, Senders = 4, BatchSize = 40;

    [Fact]
    public async Task Embedded_log_keeps_every_acknowledged_event_once_across_kills()
    {
        using var dir = new TempDir();
        string storage = Path.Combine(dir.Path, "store");
        var acknowledged = await SendThroughKillsAsync(() => ServerProcess.StartAsync(storage), seed: 1);
        using var log = EventLog.Open(Path.Combine(storage, "events"));
        var counts = log.Read().GroupBy(r => r.Event.EventId).ToDictionary(g => g.Key, g => g.Count());
        AssertKeptOnce(acknowledged, counts);
    }

    [Fact]
    public async Task Postgres_keeps_every_acknowledged_event_once_across_kills()
    {
        await using (var c = new NpgsqlConnection(db.ConnectionString))
        {
            await c.OpenAsync();
            await PostgresSchema.CreateAsync(c);
        }
        await new PostgresImporter(db.ConnectionString).ImportDemoAsync(DemoCatalog.Generate(new DemoOptions { Users = 300, Tracks = 1500, Plays = 30_000, Seed = 2 }));
        using var dir = new TempDir();
        string storage = Path.Combine(dir.Path, "store");
        var acknowledged = await SendThroughKillsAsync(() => ServerProcess.StartAsync(storage, db.ConnectionString), seed: 2);
        var counts = new Dictionary<string, int>();
        await using (var c = new NpgsqlConnection(db.ConnectionString))
        {
            await c.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT event_id, count(*)::int FROM interactions WHERE event_id IS NOT NULL GROUP BY 1", c);
            await using var reader = await cmd.ExecuteReaderAsync();
            while (await reader.ReadAsync()) counts[reader.GetString(0)] = reader.GetInt32(1);
        }
        AssertKeptOnce(acknowledged, counts);
    }

    private static void AssertKeptOnce(HashSet<string> acknowledged, Dictionary<string, int> counts)
    {
        Assert.True(acknowledged.Count >= Rounds * BatchSize, $"only {acknowledged.Count} events were acknowledged");
        var missing = acknowledged.Where(id => !counts.ContainsKey(id)).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} acknowledged events are not in the store, e.g. {string.Join(", ", missing.Take(5))}");
        var doubled = counts.Where(c => c.Value > 1).ToList();
        Assert.True(doubled.Count == 0, $"{doubled.Count} events are stored more than once, e.g. {string.Join(", ", doubled.Take(5))}");
        Assert.All(counts.Keys, id => Assert.StartsWith("k-", id));
    }

    /// <summary>Rounds of: start, senders post new batches and retry acknowledged ones, SIGKILL at a random moment.</summary>
    private static async Task<HashSet<string>> SendThroughKillsAsync(Func<Task<ServerProcess>> start, int seed)
    {
        var random = new Random(seed);
        var acknowledged = new ConcurrentDictionary<string, byte>();
        var sentBatches = new ConcurrentBag<string[]>();
        for (int round = 0; round < Rounds; round++)
        {
            await using var server = await start();
            using var stop = new CancellationTokenSource();
            int r = round;
            var senders = Enumerable.Range(0, Senders).Select(sender => Task.Run(async () =>
            {
                var rng = new Random(seed * 100 + r * 10 + sender);
                for (int n = 0; !stop.IsCancellationRequested; n++)
                {
                    // Every third request retries a batch already acknowledged (perhaps by a server since killed).
                    string[] ids = n % 3 == 2 && sentBatches.TryPeek(out var old) ? old
                        : Enumerable.Range(0, BatchSize).Select(i => $"k-{r}-{sender}-{n}-{i}").ToArray();
                    var body = Array(ids.Select(id => Json(id, 900 + rng.Next(50), rng.Next(1500), completed: rng.Next(2) == 0)));
                    try
                    {
                        var (status, _, _) = await PostAsync(server.Http, body);
                        if (status == HttpStatusCode.Accepted)
                        {
                            foreach (string id in ids) acknowledged.TryAdd(id, 0);
                            sentBatches.Add(ids);
                        }
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                    {
                        // The server died under the request: unknown whether it was stored, and it was not acknowledged.
                        return;
                    }
                }
            })).ToArray();
            await Task.Delay(300 + random.Next(1200));
            await server.KillAsync();
            await stop.CancelAsync();
            await Task.WhenAll(senders);
        }
        // One more start: recovery must read what the last kill left.
        await using (var last = await start())
        {
            Assert.Equal(HttpStatusCode.OK, (await last.Http.GetAsync("/health")).StatusCode);
        }
        return [.. acknowledged.Keys];
    }
}
