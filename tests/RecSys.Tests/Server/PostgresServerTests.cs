using System.Net;
using System.Text.Json;
using RecSys.Engine.Data;

namespace RecSys.Tests.Server;

public sealed class PostgresServerTests(PostgresFixture db) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task Trains_from_the_interactions_table_and_serves_database_metadata()
    {
        var demo = new DemoOptions { Users = 300, Tracks = 1500, Plays = 30_000, Seed = 8 };
        await using (var c = new Npgsql.NpgsqlConnection(db.ConnectionString))
        {
            await c.OpenAsync();
            await PostgresSchema.CreateAsync(c);
        }
        var importer = new PostgresImporter(db.ConnectionString);
        await importer.TruncateAsync();
        await importer.ImportDemoAsync(DemoCatalog.Generate(demo));
        // A user the model will not know, whose plays arrive after training.
        await using var s = await TestServer.StartAsync(o => { o.Db = db.ConnectionString; return o; });
        Assert.StartsWith("postgres", s.Host.Catalog.Source);
        var model = s.Host.Current!.Model;
        Assert.StartsWith("postgres", JsonDocument.Parse(await s.Http.GetStringAsync("/model")).RootElement.GetProperty("source").GetString());

        int user = Enumerable.Range(0, model.UserCount).First(u => model.UserItems!.RowLength(u) >= 10);
        var body = JsonDocument.Parse(await s.Http.GetStringAsync($"/recommend/user/{model.UserIds[user]}/ml?limit=5")).RootElement;
        var catalog = DemoCatalog.Generate(demo).Tracks.ToDictionary(t => t.TrackId);
        foreach (var item in body.EnumerateArray())
        {
            var expected = catalog[item.GetProperty("track_id").GetInt64()];
            Assert.Equal(expected.Title, item.GetProperty("title").GetString());
            Assert.Equal(expected.ArtistName, item.GetProperty("artist_name").GetString());
        }

        const long newcomer = 777_777;
        await importer.ImportPlaysAsync(model.TrackIds.Take(3).Select(t => new Play(newcomer, t, 100, true, DateTime.UtcNow)));
        var r = await s.Http.GetAsync($"/recommend/user/{newcomer}/ml?limit=5");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("fold-in", r.Headers.GetValues("X-Recommendation-Source").Single());
        string text = await r.Content.ReadAsStringAsync();
        Assert.Equal(5, ScoreFormatTests.AssertScoresHaveFractions(text));
        var recs = JsonDocument.Parse(text).RootElement.EnumerateArray().Select(e => e.GetProperty("track_id").GetInt64());
        Assert.Empty(recs.Intersect(model.TrackIds.Take(3)));
    }
}
