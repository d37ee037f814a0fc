using Npgsql;
using RecSys.Engine.Data;
using RecSys.Engine.Sparse;

namespace RecSys.Tests.Data;

public sealed class PostgresTests : IClassFixture<PostgresFixture>
{
    private static readonly DateTime At = new(2026, 3, 1, 12, 0, 0, DateTimeKind.Utc);
    private readonly string _db;

    public PostgresTests(PostgresFixture fixture)
    {
        _db = fixture.ConnectionString;
        using var c = new NpgsqlConnection(_db);
        c.Open();
        PostgresSchema.CreateAsync(c).GetAwaiter().GetResult();
        using var cmd = new NpgsqlCommand("TRUNCATE interactions, tracks, artists", c);
        cmd.ExecuteNonQuery();
    }

    private static Dictionary<(long, long), float> AsDictionary(InteractionData data)
    {
        var t = data.Table;
        return Enumerable.Range(0, t.Count).ToDictionary(i => (t.Users[i], t.Items[i]), i => t.Weights[i]);
    }

    [Fact]
    public async Task Schema_init_is_idempotent_and_has_the_original_columns()
    {
        await using var c = new NpgsqlConnection(_db);
        await c.OpenAsync();
        await PostgresSchema.CreateAsync(c);
        await PostgresSchema.CreateAsync(c);
        await using var cmd = new NpgsqlCommand(
            "SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name IN ('artists', 'tracks', 'interactions') ORDER BY 1", c);
        var columns = new List<string>();
        await using (var r = await cmd.ExecuteReaderAsync())
        {
            while (await r.ReadAsync()) columns.Add(r.GetString(0));
        }
        Assert.Equal(
        [
            "artists.artist_id", "artists.name",
            "interactions.created_at", "interactions.event_id", "interactions.is_completed", "interactions.milestone", "interactions.track_id", "interactions.user_id", "interactions.weight",
            "tracks.album_id", "tracks.artist_id", "tracks.cover_url", "tracks.duration_ms", "tracks.preview_url", "tracks.title", "tracks.track_id",
        ], columns);
    }

    [Fact]
    public async Task Qualification_edges_and_per_pair_counting()
    {
        Play P(long u, long t, int m, bool done) => new(u, t, m, done, At);
        await new PostgresImporter(_db).ImportPlaysAsync(
        [
            P(1, 10, 74, false),   // not qualified: below 75
            P(1, 11, 75, false),   // qualified: exactly 75
            P(1, 12, 10, true),    // qualified: completed
            P(1, 13, 100, false),  // qualified: milestone
            P(2, 10, 80, false), P(2, 10, 90, true), P(2, 10, 20, false), P(2, 10, 99, false), // 3 qualified of 4
            P(3, 10, 50, false),   // user 3 has nothing qualified
        ]);
        await using (var c = new NpgsqlConnection(_db))
        {
            await c.OpenAsync();
            await using var nullMilestone = new NpgsqlCommand(
                "INSERT INTO interactions (user_id, track_id, milestone, is_completed) VALUES (4, 20, NULL, true), (4, 21, NULL, false)", c);
            await nullMilestone.ExecuteNonQueryAsync();
        }

        var data = await new PostgresInteractionSource(_db).ReadAsync();
        var d = AsDictionary(data);
        Assert.Equal(new Dictionary<(long, long), float>
        {
            [(1, 11)] = 1, [(1, 12)] = 1, [(1, 13)] = 1, [(2, 10)] = 3, [(4, 20)] = 1,
        }, d);
    }

    [Fact]
    public async Task Demo_import_reads_back_as_the_in_memory_qualified_counts()
    {
        var options = new DemoOptions { Users = 200, Tracks = 1_000, Plays = 20_000, Seed = 3 };
        var catalog = DemoCatalog.Generate(options);
        var result = await new PostgresImporter(_db).ImportDemoAsync(catalog);
        var plays = new List<Play>();
        catalog.GeneratePlays(plays.Add);
        Assert.Equal(plays.Count, result.Plays);
        Assert.Equal(1_000, result.Tracks);

        var fromDb = InteractionMatrix.Build((await new PostgresInteractionSource(_db).ReadAsync()).Table);
        var inMemory = InteractionMatrix.Build(catalog.ToInteractions().Table);
        Assert.Equal(inMemory.Users.Ids.ToArray(), fromDb.Users.Ids.ToArray());
        Assert.Equal(inMemory.Items.Ids.ToArray(), fromDb.Items.Ids.ToArray());
        Assert.Equal(inMemory.UserItems.RowPtr, fromDb.UserItems.RowPtr);
        Assert.Equal(inMemory.UserItems.ColIndices, fromDb.UserItems.ColIndices);
        Assert.Equal(inMemory.UserItems.Values, fromDb.UserItems.Values);

        var tracks = (await new PostgresTrackSource(_db).ReadTracksAsync()).Tracks;
        Assert.Equal(catalog.Tracks.OrderBy(t => t.TrackId).Select(t => t with { Genre = null }), tracks.OrderBy(t => t.TrackId));
    }

    [Fact]
    public async Task File_rows_import_as_completed_plays_that_keep_their_weight()
    {
        var table = new InteractionTable();
        table.Add(7, 70, 12);
        table.Add(7, 71, 1);
        table.Add(7, 71, 2.5f);
        var result = await new PostgresImporter(_db).ImportInteractionsAsync(new InteractionData(table, "t"), new PostgresImporter.Content("plays", "sha-a", "t"));
        Assert.Equal(3, result.Plays);
        var d = AsDictionary(await new PostgresInteractionSource(_db).ReadAsync());
        Assert.Equal(new Dictionary<(long, long), float> { [(7, 70)] = 12, [(7, 71)] = 3.5f }, d);
    }

    [Fact]
    public async Task Track_without_artist_keeps_null_fields()
    {
        await using (var c = new NpgsqlConnection(_db))
        {
            await c.OpenAsync();
            await using var cmd = new NpgsqlCommand("INSERT INTO tracks (track_id, title) VALUES (5, 'Lonely Track')", c);
            await cmd.ExecuteNonQueryAsync();
        }
        var t = Assert.Single((await new PostgresTrackSource(_db).ReadTracksAsync()).Tracks);
        Assert.Equal(new TrackInfo(5, "Lonely Track", null, null, null, null, null, null), t);
    }

    [Fact]
    public async Task Missing_table_gives_a_clear_message()
    {
        await using (var c = new NpgsqlConnection(_db))
        {
            await c.OpenAsync();
            await using var cmd = new NpgsqlCommand("CREATE SCHEMA empty_one", c);
            await cmd.ExecuteNonQueryAsync();
        }
        var other = new NpgsqlConnectionStringBuilder(_db) { SearchPath = "empty_one" }.ConnectionString;
        var e = await Assert.ThrowsAnyAsync<InvalidOperationException>(() => new PostgresInteractionSource(other).ReadAsync());
        Assert.Contains("db init", e.Message);
        Assert.Contains("RecSys:Db:Interactions:Table", e.Message);
    }
}
