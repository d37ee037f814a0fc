using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using RecSys.Engine.Model;
using RecSys.Server.Configuration;
using RecSys.Server.Hosting;
using RecSys.Server.Lifecycle;

namespace RecSys.Tests.Server;

/// <summary>Not run in parallel with other classes: the load test needs the thread pool to itself.</summary>
[CollectionDefinition(nameof(LifecycleTests), DisableParallelization = true)]
public sealed class LifecycleCollection;

[Collection(nameof(LifecycleTests))]
public sealed class LifecycleTests
{
    [Fact]
    public async Task Reload_and_retraining_under_concurrent_load_fail_no_request()
    {
        await using var s = await TestServer.StartAsync();
        var model = s.Host.Current!.Model;
        string first = s.Host.Current.Version;
        using var stop = new CancellationTokenSource();
        int failures = 0, requests = 0;
        var load = Enumerable.Range(0, 4).Select(t => Task.Run(async () =>
        {
            int n = t;
            while (!stop.IsCancellationRequested)
            {
                long user = model.UserIds[n++ % model.UserCount];
                string path = n % 3 == 0 ? $"/recommend/similar/{model.TrackIds[n % model.ItemCount]}" : $"/recommend/user/{user}/ml?limit=10";
                var r = await s.Http.GetAsync(path);
                Interlocked.Increment(ref requests);
                if (r.StatusCode != HttpStatusCode.OK) Interlocked.Increment(ref failures);
            }
        })).ToArray();
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await s.Http.SendAsync(s.Admin("/admin/reload"))).StatusCode);
        }
        Assert.Equal(HttpStatusCode.Accepted, (await s.Http.SendAsync(s.Admin("/admin/train"))).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await s.Http.SendAsync(s.Admin("/admin/train"))).StatusCode);
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (s.Training.Running && DateTime.UtcNow < deadline) await Task.Delay(50);
        // Keep the load on across the swap to the retrained model for a while.
        while (Volatile.Read(ref requests) < 200 && DateTime.UtcNow < deadline) await Task.Delay(20);
        await stop.CancelAsync();
        await Task.WhenAll(load);
        Assert.True(requests >= 200, $"only {requests} requests ran");
        Assert.Equal(0, failures);
        Assert.True(s.Training.Last!.Ok, s.Training.Last.Message);
        Assert.NotEqual(first, s.Host.Current!.Version);
    }

    [Fact]
    public async Task A_corrupt_or_worse_candidate_is_not_promoted()
    {
        await using var s = await TestServer.StartAsync();
        var store = s.Host.Store;
        string serving = s.Host.Current!.Version;

        // Corrupt: a version whose model file is garbage.
        string corrupt = store.Add(s.Host.Current.Model, v => new ModelManifest { Version = v });
        File.WriteAllText(Path.Combine(store.VersionDirectory(corrupt), ModelStore.ModelFileName), "not a model");
        var refused = s.Host.TryPromote(corrupt);
        Assert.False(refused.Ok);
        Assert.Contains("does not load", refused.Message);
        Assert.Equal(serving, s.Host.Current!.Version);
        Assert.Equal(serving, store.Current);

        // Worse: a valid model whose holdout NDCG is far below the serving one's.
        string worse = store.Add(s.Host.Current.Model, v => new ModelManifest { Version = v, Metrics = new JsonObject { ["ndcg@10"] = 0.0001 } });
        var rejected = s.Host.TryPromote(worse);
        Assert.False(rejected.Ok);
        Assert.Contains("below the serving model", rejected.Message);
        Assert.Equal(serving, s.Host.Current!.Version);

        var described = JsonNode.Parse(await s.Http.GetStringAsync("/model"))!;
        Assert.Contains("not promoted", described["last_reload"]!["message"]!.GetValue<string>());
        Assert.False(described["last_reload"]!["ok"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Scheduler_fires_on_the_injected_clock()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 26, 2, 59, 0, TimeSpan.Zero));
        await using var s = await TestServer.StartAsync(o => { o.Schedule = "0 3 * * *"; return o; }, clock);
        var scheduler = s.App.Services.GetRequiredService<TrainingScheduler>();
        Assert.Equal(new DateTime(2026, 11, 26, 3, 0, 0, DateTimeKind.Utc), scheduler.NextRunUtc);
        Assert.Equal(0, scheduler.Fired);
        clock.Advance(TimeSpan.FromSeconds(59));
        await Task.Delay(200);
        Assert.Equal(0, scheduler.Fired);
        clock.Advance(TimeSpan.FromSeconds(2));
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while ((s.Training.Last?.Trigger != "schedule") && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(1, scheduler.Fired);
        Assert.Equal("schedule", s.Training.Last!.Trigger);
        Assert.True(s.Training.Last.Ok, s.Training.Last.Message);
        Assert.Equal(new DateTime(2026, 11, 27, 3, 0, 0, DateTimeKind.Utc), scheduler.NextRunUtc);
    }

    [Theory]
    [InlineData("2026-11-26T01:30:00Z", "2026-11-26T02:00:00Z")] // Berlin is UTC+1 in winter
    [InlineData("2026-07-01T00:30:00Z", "2026-07-01T01:00:00Z")] // and UTC+2 in summer
    [InlineData("2026-03-29T00:30:00Z", "2026-03-29T01:00:00Z")] // the day the clocks go forward
    public async Task The_schedule_runs_in_its_time_zone(string now, string next)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture));
        await using var s = await TestServer.StartAsync(o => { o.Schedule = "0 3 * * *"; o.ScheduleTimeZone = "Europe/Berlin"; return o; }, clock);
        var scheduler = s.App.Services.GetRequiredService<TrainingScheduler>();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (scheduler.NextRunUtc is null && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Equal(DateTime.Parse(next, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AdjustToUniversal), scheduler.NextRunUtc);
        var described = System.Text.Json.Nodes.JsonNode.Parse(await s.Http.GetStringAsync("/model"))!;
        Assert.Equal("Europe/Berlin", described["training"]!["time_zone"]!.GetValue<string>());
    }

    [Fact]
    public async Task Without_a_token_admin_endpoints_do_not_exist_and_without_a_model_ml_answers_legacy()
    {
        await using var s = await TestServer.StartAsync(o => { o.AdminToken = null; o.TrainIfMissing = false; return o; }, waitReady: false);
        Assert.Equal(HttpStatusCode.NotFound, (await s.Http.SendAsync(s.Admin("/admin/reload"))).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await s.Http.GetAsync("/ready")).StatusCode);
        var r = await s.Http.GetAsync("/recommend/user/5/ml?limit=3");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("legacy", r.Headers.GetValues("X-Recommendation-Source").Single());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await s.Http.GetAsync("/recommend/similar/5")).StatusCode);
    }

    [Fact]
    public async Task A_replaced_model_becomes_unreachable_and_is_collected_after_a_reload()
    {
        await using var s = await TestServer.StartAsync();
        var before = Weakly(s.Host.Current!);
        await s.Http.GetAsync($"/recommend/user/{s.Host.Current!.Model.UserIds[0]}/ml?limit=5");
        Assert.Equal(HttpStatusCode.OK, (await s.Http.SendAsync(s.Admin("/admin/reload"))).StatusCode);
        await s.Http.GetAsync($"/recommend/user/{s.Host.Current!.Model.UserIds[0]}/ml?limit=5");
        // The host collects a moment after the swap; nothing (caches, bindings, search contexts) may hold the old one.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (before.TryGetTarget(out _) && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.False(before.TryGetTarget(out _), "the model served before the reload is still reachable");
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference<ServingModel> Weakly(ServingModel model) => new(model);

    [Fact]
    public async Task The_legacy_pool_is_built_before_any_request_asks_for_it()
    {
        await using var s = await TestServer.StartAsync();
        // So are fold-in's Gram matrix and the popularity order.
        Assert.True(s.Host.Current!.Recommender.Prepared);
        Assert.True(s.Host.Catalog.Count > 0);
        Assert.True(s.Host.Catalog.SortedFieldsBuilt);

        // Without a catalog the pool is the model's own tracks, built when the catalog is replaced.
        s.Host.SetCatalog(RecSys.Server.Metadata.TrackCatalog.Empty);
        Assert.True(s.Host.Current!.SortedTracksBuilt);
        var r = await s.Http.GetAsync("/recommend/user/5?limit=3");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal(3, System.Text.Json.JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetArrayLength());
    }

    [Fact]
    public async Task A_failing_training_keeps_the_serving_model()
    {
        await using var s = await TestServer.StartAsync();
        string serving = s.Host.Current!.Version;
        // Point training at a file that turns out malformed after start-up.
        string bad = Path.Combine(Path.GetTempPath(), $"recsys-bad-{Guid.NewGuid():N}.csv");
        File.WriteAllText(bad, "user,track\n1,2\n1,oops\n");
        try
        {
            s.Options.InputFile = bad;
            Assert.True(s.Training.TryStart("test", out var run));
            var outcome = await run;
            Assert.False(outcome.Ok);
            Assert.Contains("oops", outcome.Message);
            Assert.Equal(serving, s.Host.Current!.Version);
            Assert.Equal(HttpStatusCode.OK, (await s.Http.GetAsync("/ready")).StatusCode);
        }
        finally
        {
            File.Delete(bad);
        }
    }

    [Fact]
    public void Configuration_layers_environment_under_the_command_line()
    {
        var env = new System.Collections.Hashtable
        {
            ["RECSYS__PORT"] = "9100",
            ["RECSYS__TRAINING__FACTORS"] = "96",
            ["RECSYS_DB"] = "Host=db.example;Database=rec",
            ["UNRELATED"] = "x",
        };
        var fromEnv = ServerConfiguration.Bind(ServerConfiguration.Build(new Dictionary<string, string?>(), env));
        Assert.Equal(9100, fromEnv.Port);
        Assert.Equal(96, fromEnv.Training.Factors);
        Assert.Equal("Host=db.example;Database=rec", fromEnv.Db);
        var overridden = ServerConfiguration.Bind(ServerConfiguration.Build(new Dictionary<string, string?> { ["RecSys:Port"] = "9200" }, env));
        Assert.Equal(9200, overridden.Port);
        var bad = Assert.Throws<InvalidOperationException>(() =>
            ServerConfiguration.Bind(ServerConfiguration.Build(new Dictionary<string, string?> { ["RecSys:Port"] = "99999" }, env)));
        Assert.Contains("RecSys:Port", bad.Message);
    }

    [Fact]
    public void Invalid_options_are_named()
    {
        var o = TestServer.SmallOptions("x");
        o.Port = 70000;
        o.MaxLimit = 0;
        o.Schedule = "every day";
        o.AdminToken = "short";
        o.Training = o.Training with { Factors = 0 };
        var problems = o.Validate();
        Assert.Contains(problems, p => p.Contains("RecSys:Port"));
        Assert.Contains(problems, p => p.Contains("RecSys:MaxLimit"));
        Assert.Contains(problems, p => p.Contains("RecSys:Schedule"));
        Assert.Contains(problems, p => p.Contains("RecSys:AdminToken"));
        Assert.Contains(problems, p => p.Contains("RecSys:Training") && p.Contains("factors"));

        o = TestServer.SmallOptions("x");
        o.ScheduleTimeZone = "Mars/Olympus";
        Assert.Contains(o.Validate(), p => p.Contains("RecSys:ScheduleTimeZone"));
    }

    [Fact]
    public void The_connection_string_and_the_schema_mapping_share_the_Db_key()
    {
        var env = new System.Collections.Hashtable
        {
            ["RECSYS_DB"] = "Host=db.example;Database=rec",
            ["RECSYS__DB__TRACKS__ID"] = "id",
        };
        var options = ServerConfiguration.Bind(ServerConfiguration.Build(
            new Dictionary<string, string?> { ["RecSys:Db:Interactions:Table"] = "app.plays" }, env));
        Assert.Equal("Host=db.example;Database=rec", options.Db);
        Assert.Equal("id", options.DbMapping.Tracks.Id);
        Assert.Equal("app.plays", options.DbMapping.Interactions.Table);
        Assert.Equal("artist_id", options.DbMapping.Artists.Id);

        // A JSON file cannot give "Db" a value and children: there the connection string has its own key.
        var fromJson = ServerConfiguration.Bind(ServerConfiguration.Build(new Dictionary<string, string?>
        {
            ["RecSys:Db:ConnectionString"] = "Host=json.example",
            ["RecSys:Db:Artists:Table"] = "",
        }, new System.Collections.Hashtable()));
        Assert.Equal("Host=json.example", fromJson.Db);
        Assert.Equal("", fromJson.DbMapping.Artists.Table);
    }

    [Fact]
    public void Model_store_promotes_rolls_back_and_keeps_the_last_versions()
    {
        using var dir = new TempDir();
        var store = new ModelStore(dir.Path, keep: 2);
        var model = Model.ModelFileTests.SampleModel();
        Assert.Null(store.Current);
        var versions = new List<string>();
        for (int i = 0; i < 4; i++)
        {
            versions.Add(store.Add(model, v => new ModelManifest { Version = v }));
            store.Promote(versions[^1]);
        }
        Assert.Equal(4, versions.Distinct().Count());
        Assert.Equal(versions[3], store.Current);
        // Two kept: the current one and the one a rollback returns to.
        Assert.Equal([versions[2], versions[3]], store.Versions());
        Assert.Equal(versions[2], store.Rollback());
        Assert.Equal(versions[2], store.Current);
        Assert.Throws<InvalidOperationException>(() => store.Rollback());
        Assert.Throws<InvalidOperationException>(() => store.Promote("no-such-version"));
    }
}
