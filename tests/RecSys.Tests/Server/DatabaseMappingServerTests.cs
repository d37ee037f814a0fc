using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using RecSys.Engine.Data;
using RecSys.Server.Configuration;
using RecSys.Server.Hosting;

namespace RecSys.Tests.Server;

/// <summary>
/// The migration path of docs/database.md on a real PostgreSQL: the original design's typical database
/// (serial ids, int ids, tracks.id, artists.id) served by configuration alone, metadata that changes
/// while the server runs, mappings that do not fit, and a training run that fails.
/// </summary>
public sealed class DatabaseMappingServerTests : IClassFixture<PostgresFixture>
{
    private static readonly DemoOptions Demo = new() { Users = 300, Tracks = 1500, Plays = 30_000, Seed = 8 };
    private readonly PostgresFixture _fixture;
    private readonly string _db;

    public DatabaseMappingServerTests(PostgresFixture fixture)
    {
        _fixture = fixture;
        _db = fixture.ConnectionString;
        _fixture.Execute("""
            DROP SCHEMA IF EXISTS legacy CASCADE;
            CREATE SCHEMA legacy;
            CREATE TABLE legacy.interactions (id serial PRIMARY KEY, user_id int NOT NULL, track_id int NOT NULL, milestone int, is_completed bool DEFAULT false, created_at timestamptz DEFAULT now());
            CREATE TABLE legacy.artists (id int PRIMARY KEY, name text NOT NULL);
            CREATE TABLE legacy.tracks (id int PRIMARY KEY, title text, artist_id int, album_id int, duration_ms int, preview_url text, cover_url text);
            """);
        // The plays and metadata go in through the mapping too (db import with --set does the same).
        new PostgresImporter(_db, Typical()).ImportDemoAsync(DemoCatalog.Generate(Demo)).GetAwaiter().GetResult();
    }

    /// <summary>What a team with the typical schema sets, and nothing else (the same as --set Db:Tracks:Id=id …).</summary>
    private static PostgresMapping Typical() => ServerConfiguration.BindMapping(ServerConfiguration.Build(new Dictionary<string, string?>
    {
        ["RecSys:Db:Interactions:Table"] = "legacy.interactions",
        ["RecSys:Db:Tracks:Table"] = "legacy.tracks",
        ["RecSys:Db:Tracks:Id"] = "id",
        ["RecSys:Db:Artists:Table"] = "legacy.artists",
        ["RecSys:Db:Artists:Id"] = "id",
    }, new System.Collections.Hashtable()));

    private Task<TestServer> Start(Action<ServerOptions>? more = null) => TestServer.StartAsync(o =>
    {
        o.Db = _db;
        o.DbMapping = Typical();
        more?.Invoke(o);
        return o;
    });

    private static async Task<JsonElement> Json(HttpClient http, string path) =>
        JsonDocument.Parse(await http.GetStringAsync(path)).RootElement.Clone();

    private static long WarmUser(TestServer s)
    {
        var model = s.Host.Current!.Model;
        return model.UserIds[Enumerable.Range(0, model.UserCount).First(u => model.UserItems!.RowLength(u) >= 10)];
    }

    [Fact]
    public async Task The_typical_schema_gets_ml_answers_with_full_metadata_by_configuration_alone()
    {
        await using var s = await Start();
        var catalog = DemoCatalog.Generate(Demo).Tracks.ToDictionary(t => t.TrackId);
        var r = await s.Http.GetAsync($"/recommend/user/{WarmUser(s)}/ml?limit=10");
        Assert.Equal("ml", r.Headers.GetValues("X-Recommendation-Source").Single());
        var body = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(10, body.GetArrayLength());
        foreach (var item in body.EnumerateArray())
        {
            var expected = catalog[item.GetProperty("track_id").GetInt64()];
            Assert.Equal(expected.Title, item.GetProperty("title").GetString());
            Assert.Equal(expected.ArtistName, item.GetProperty("artist_name").GetString());
            Assert.Equal(expected.CoverUrl, item.GetProperty("cover_url").GetString());
        }
        var model = await Json(s.Http, "/model");
        Assert.Equal(1500, model.GetProperty("catalog").GetProperty("tracks").GetInt32());
        Assert.Contains("legacy.tracks", model.GetProperty("catalog").GetProperty("source").GetString());
        Assert.Equal(0, model.GetProperty("catalog").GetProperty("model_tracks_without_metadata").GetInt32());
        Assert.Equal("ok", (await Json(s.Http, "/ready")).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Metadata_changed_after_start_up_is_served_after_admin_reload_and_after_a_promotion()
    {
        await using var s = await Start();
        long user = WarmUser(s);
        string path = $"/recommend/user/{user}/ml?limit=5";
        long track = (await Json(s.Http, path))[0].GetProperty("track_id").GetInt64();

        await _fixture.ExecuteAsync($"UPDATE legacy.tracks SET title = 'Renamed by the catalog team' WHERE id = {track}");
        Assert.NotEqual("Renamed by the catalog team", (await Json(s.Http, path))[0].GetProperty("title").GetString());
        Assert.Equal(HttpStatusCode.OK, (await s.Http.SendAsync(s.Admin("/admin/reload"))).StatusCode);
        Assert.Equal("Renamed by the catalog team", (await Json(s.Http, path))[0].GetProperty("title").GetString());

        // A track the model has not seen: trained in (plays) with its metadata, both after start-up.
        const int newTrack = 990_001;
        await _fixture.ExecuteAsync($"INSERT INTO legacy.tracks (id, title) VALUES ({newTrack}, 'Overnight single')");
        await _fixture.ExecuteAsync($"INSERT INTO legacy.interactions (user_id, track_id, milestone) SELECT u, {newTrack}, 100 FROM generate_series(1, 200) u");
        Assert.True(s.Training.TryStart("test", out var run));
        var outcome = await run;
        Assert.True(outcome.Ok && outcome.Promoted, outcome.Message);
        var similar = await Json(s.Http, $"/recommend/similar/{newTrack}?limit=3");
        Assert.Equal(3, similar.GetArrayLength());
        var fields = s.Host.Current!.Fields(s.Host.Catalog);
        int index = Array.IndexOf(s.Host.Current.Model.TrackIds, (long)newTrack);
        Assert.Equal("Overnight single", s.Host.Catalog.Find(fields.TrackIds[index])!.Title);
        Assert.Equal(0, fields.WithoutMetadata);
    }

    [Fact]
    public async Task Metadata_is_reloaded_on_the_interval()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var s = await TestServer.StartAsync(o =>
        {
            o.Db = _db;
            o.DbMapping = Typical();
            o.CatalogRefreshSeconds = 60;
            return o;
        }, clock);
        var catalog = s.App.Services.GetRequiredService<CatalogService>();
        var loaded = catalog.Status.LoadedAtUtc;

        // Nothing changed: the interval checks the change token and keeps the catalog it has.
        clock.Advance(TimeSpan.FromSeconds(61));
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (catalog.Status.CheckedAtUtc == loaded && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.NotEqual(loaded, catalog.Status.CheckedAtUtc);
        Assert.Equal(loaded, catalog.Status.LoadedAtUtc);

        await _fixture.ExecuteAsync("UPDATE legacy.tracks SET title = 'Retitled between reloads' WHERE id = 1");
        clock.Advance(TimeSpan.FromSeconds(59));
        await Task.Delay(300);
        Assert.NotEqual("Retitled between reloads", s.Host.Catalog.Find(1)!.Title);
        // The statistics the token is made of reach the server within seconds of the commit: tick until they have.
        deadline = DateTime.UtcNow.AddSeconds(40);
        while (s.Host.Catalog.Find(1)!.Title != "Retitled between reloads" && DateTime.UtcNow < deadline)
        {
            clock.Advance(TimeSpan.FromSeconds(61));
            await Task.Delay(250);
        }
        Assert.Equal("Retitled between reloads", s.Host.Catalog.Find(1)!.Title);
    }

    [Theory]
    [InlineData("Tracks:Id", "track_id", "RecSys:Db:Tracks:Id = 'track_id'")]
    [InlineData("Artists:Table", "public.artists", "RecSys:Db:Artists:Table = 'public.artists'")]
    [InlineData("Interactions:Track", "song_id", "RecSys:Db:Interactions:Track = 'song_id'")]
    public async Task A_mapping_that_does_not_fit_stops_start_up_naming_the_setting(string key, string value, string expected)
    {
        var e = await Assert.ThrowsAnyAsync<InvalidOperationException>(() => Start(o =>
        {
            var m = o.DbMapping;
            switch (key)
            {
                case "Tracks:Id": m.Tracks = m.Tracks with { Id = value }; break;
                case "Artists:Table": m.Artists = m.Artists with { Table = value }; break;
                default: m.Interactions = m.Interactions with { Track = value }; break;
            }
        }));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public async Task Allowed_missing_metadata_starts_degraded_and_says_why()
    {
        await using var s = await Start(o =>
        {
            o.DbMapping.Tracks = o.DbMapping.Tracks with { Table = "legacy.no_such_tracks" };
            o.AllowMissingMetadata = true;
        });
        var ready = await s.Http.GetAsync("/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var body = JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("degraded", body.GetProperty("status").GetString());
        Assert.Contains("RecSys:Db:Tracks:Table", body.GetProperty("reason").GetString());
        var model = await Json(s.Http, "/model");
        Assert.Contains("legacy.no_such_tracks", model.GetProperty("catalog").GetProperty("last_error").GetString());

        Assert.Equal(s.Host.Current!.Model.ItemCount, model.GetProperty("catalog").GetProperty("model_tracks_without_metadata").GetInt32());
        await s.Http.GetAsync($"/recommend/user/{WarmUser(s)}/ml?limit=4");
        // Process-wide metrics (other test servers run in this process too): the counter only grows.
        string metrics = await s.Http.GetStringAsync("/metrics");
        Assert.Matches(@"recsys_served_tracks_without_metadata_total [1-9]", metrics);
        Assert.Contains("recsys_model_tracks_without_metadata ", metrics);
    }

    [Fact]
    public async Task A_database_that_is_down_at_start_up_gives_a_degraded_start_not_a_failed_one()
    {
        var down = new NpgsqlConnectionStringBuilder(_db) { Port = 1, Timeout = 2 }.ConnectionString;
        await using var s = await TestServer.StartAsync(o =>
        {
            o.Db = down;
            o.DbMapping = Typical();
            o.TrainIfMissing = false;
            return o;
        }, waitReady: false);
        var catalog = JsonDocument.Parse(await s.Http.GetStringAsync("/model")).RootElement.GetProperty("catalog");
        Assert.Contains("could not be read", catalog.GetProperty("degraded").GetString());
        var r = await s.Http.GetAsync("/recommend/user/1/ml?limit=3");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
    }

    [Fact]
    public async Task A_failed_training_is_shown_in_model_and_metrics()
    {
        await using var s = await Start();
        await _fixture.ExecuteAsync("ALTER TABLE legacy.interactions RENAME COLUMN track_id TO song_id");
        Assert.True(s.Training.TryStart("test", out var run));
        Assert.False((await run).Ok);
        var training = JsonNode.Parse(await s.Http.GetStringAsync("/model"))!["training"]!;
        Assert.Contains("RecSys:Db:Interactions:Track", training["last_error"]!["message"]!.GetValue<string>());
        Assert.Contains("recsys_training_last_failed 1", await s.Http.GetStringAsync("/metrics"));
        Assert.Equal(HttpStatusCode.OK, (await s.Http.GetAsync("/ready")).StatusCode);
    }
}
