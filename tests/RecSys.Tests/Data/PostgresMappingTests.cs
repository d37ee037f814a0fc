using Npgsql;
using RecSys.Engine.Data;

namespace RecSys.Tests.Data;

/// <summary>
/// The schema mapping on a real PostgreSQL: the typical existing database of the original design
/// (serial ids, int user and track ids, tracks.id and artists.id), views, materialized views, a
/// table no ANALYZE has seen, and mappings that do not fit, each named in the error.
/// </summary>
public sealed class PostgresMappingTests : IClassFixture<PostgresFixture>
{
    private readonly PostgresFixture _fixture;
    private readonly string _db;

    public PostgresMappingTests(PostgresFixture fixture)
    {
        _fixture = fixture;
        _db = fixture.ConnectionString;
        _fixture.Execute("""
            DROP SCHEMA IF EXISTS app CASCADE;
            CREATE SCHEMA app;
            CREATE TABLE app.interactions (id serial PRIMARY KEY, user_id int, track_id int, milestone int, is_completed bool, created_at timestamptz DEFAULT now());
            CREATE TABLE app.artists (id int PRIMARY KEY, name text);
            CREATE TABLE app.tracks (id int PRIMARY KEY, title varchar(200), artist_id int REFERENCES app.artists, album_id int, duration_ms int, preview_url text, cover_url text);
            INSERT INTO app.artists VALUES (1, 'Nina'), (2, 'Otis');
            INSERT INTO app.tracks VALUES (10, 'Ten', 1, 100, 180000, 'p10', 'c10'), (11, 'Eleven', 2, NULL, NULL, NULL, NULL), (12, 'Twelve', NULL, NULL, NULL, NULL, NULL);
            INSERT INTO app.interactions (user_id, track_id, milestone, is_completed) VALUES
                (1, 10, 80, false), (1, 10, 100, true), (1, 11, 10, false), (1, 12, 50, true),
                (2, 11, 75, false), (2, 12, NULL, NULL), (3, 10, 74, false);
            """);
    }

    /// <summary>The typical schema's mapping: only the names that differ from the defaults.</summary>
    private static PostgresMapping Typical(string table = "app.interactions") => new()
    {
        Interactions = new InteractionsMapping { Table = table },
        Tracks = new TracksMapping { Table = "app.tracks", Id = "id" },
        Artists = new ArtistsMapping { Table = "app.artists", Id = "id" },
    };

    private static Dictionary<(long, long), float> Counts(InteractionData data) =>
        Enumerable.Range(0, data.Table.Count).ToDictionary(i => (data.Table.Users[i], data.Table.Items[i]), i => data.Table.Weights[i]);

    private static readonly Dictionary<(long, long), float> Expected = new() { [(1, 10)] = 2, [(1, 12)] = 1, [(2, 11)] = 1 };

    [Fact]
    public async Task Typical_schema_with_int_ids_reads_through_the_mapping()
    {
        var data = await new PostgresInteractionSource(_db, Typical()).ReadAsync();
        Assert.Equal(Expected, Counts(data));
        Assert.Equal(0, data.SkippedRows);
    }

    [Fact]
    public async Task Typical_schema_metadata_joins_artist_names_by_the_mapped_ids()
    {
        var rows = await new PostgresTrackSource(_db, Typical()).ReadTracksAsync();
        Assert.Equal(
        [
            new TrackInfo(10, "Ten", 1, "Nina", 100, 180000, "p10", "c10"),
            new TrackInfo(11, "Eleven", 2, "Otis", null, null, null, null),
            new TrackInfo(12, "Twelve", null, null, null, null, null, null),
        ], rows.Tracks.OrderBy(t => t.TrackId));
        Assert.Contains("app.tracks", rows.Source);
    }

    [Fact]
    public async Task A_view_renaming_every_column_is_read_like_a_table()
    {
        _fixture.Execute("""
            CREATE VIEW app.plays AS SELECT user_id::smallint AS listener, track_id::numeric(12, 0) AS song, milestone AS pct, is_completed AS done FROM app.interactions;
            """);
        var mapping = Typical("app.plays");
        mapping.Interactions = mapping.Interactions with { User = "listener", Track = "song", Milestone = "pct", Completed = "done", PlayedAt = "" };
        Assert.Equal(Expected, Counts(await new PostgresInteractionSource(_db, mapping).ReadAsync()));
    }

    [Fact]
    public async Task A_materialized_view_is_read_like_a_table()
    {
        _fixture.Execute("CREATE MATERIALIZED VIEW app.plays_mv AS SELECT user_id::bigint AS user_id, track_id, milestone, is_completed FROM app.interactions");
        var mapping = Typical("app.plays_mv");
        mapping.Interactions = mapping.Interactions with { PlayedAt = "" };
        Assert.Equal(Expected, Counts(await new PostgresInteractionSource(_db, mapping).ReadAsync()));
    }

    [Fact]
    public async Task A_fresh_table_no_analyze_has_seen_is_read()
    {
        // reltuples stays -1 until ANALYZE or autovacuum: that used to read as "no such table".
        _fixture.Execute("""
            CREATE TABLE app.fresh (user_id bigint, track_id bigint, milestone int, is_completed bool) WITH (autovacuum_enabled = false);
            INSERT INTO app.fresh VALUES (5, 50, 90, false), (5, 51, 0, true);
            """);
        var mapping = Typical("app.fresh");
        mapping.Interactions = mapping.Interactions with { PlayedAt = "" };
        var data = await new PostgresInteractionSource(_db, mapping).ReadAsync();
        Assert.Equal(new Dictionary<(long, long), float> { [(5, 50)] = 1, [(5, 51)] = 1 }, Counts(data));
    }

    [Fact]
    public async Task Null_and_fractional_ids_are_counted_and_reported_not_dropped_silently()
    {
        _fixture.Execute("""
            CREATE TABLE app.messy (user_id numeric, track_id int, milestone int, is_completed bool);
            INSERT INTO app.messy VALUES (1, 10, 100, false), (1.5, 10, 100, false), (NULL, 11, 100, false), (2, NULL, 100, true);
            """);
        var mapping = Typical("app.messy");
        mapping.Interactions = mapping.Interactions with { PlayedAt = "" };
        var data = await new PostgresInteractionSource(_db, mapping).ReadAsync();
        Assert.Equal(new Dictionary<(long, long), float> { [(1, 10)] = 1 }, Counts(data));
        Assert.Equal(3, data.SkippedRows);
        Assert.All(data.SkippedExamples!, e => Assert.Contains("NULL or fractional id", e));
    }

    [Theory]
    [InlineData("Interactions:Table", "app.nope", "RecSys:Db:Interactions:Table = 'app.nope'")]
    [InlineData("Interactions:User", "uid", "RecSys:Db:Interactions:User = 'uid'")]
    [InlineData("Interactions:Completed", "finished", "RecSys:Db:Interactions:Completed = 'finished'")]
    [InlineData("Interactions:Milestone", "created_at", "must be a number type")]
    [InlineData("Interactions:Table", "a.b.c.d", "RecSys:Db:Interactions:Table = 'a.b.c.d'")]
    public async Task A_mapping_that_does_not_fit_names_the_setting(string setting, string value, string expected)
    {
        var mapping = Typical();
        mapping.Interactions = setting switch
        {
            "Interactions:Table" => mapping.Interactions with { Table = value },
            "Interactions:User" => mapping.Interactions with { User = value },
            "Interactions:Completed" => mapping.Interactions with { Completed = value },
            _ => mapping.Interactions with { Milestone = value },
        };
        var e = await Assert.ThrowsAsync<SchemaMappingException>(() => new PostgresInteractionSource(_db, mapping).ReadAsync());
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public async Task A_missing_column_error_lists_the_columns_there_are()
    {
        var mapping = Typical();
        mapping.Interactions = mapping.Interactions with { User = "uid" };
        var e = await Assert.ThrowsAsync<SchemaMappingException>(() => new PostgresInteractionSource(_db, mapping).ReadAsync());
        Assert.Contains("user_id", e.Message);
        Assert.Contains("app.interactions", e.Message);
    }

    [Fact]
    public async Task A_text_id_column_is_refused_with_its_type()
    {
        _fixture.Execute("CREATE TABLE app.textual (user_id text, track_id int, milestone int, is_completed bool)");
        var mapping = Typical("app.textual");
        mapping.Interactions = mapping.Interactions with { PlayedAt = "" };
        var e = await Assert.ThrowsAsync<SchemaMappingException>(() => new PostgresInteractionSource(_db, mapping).ReadAsync());
        Assert.Contains("RecSys:Db:Interactions:User", e.Message);
        Assert.Contains("integer type", e.Message);
    }

    [Fact]
    public async Task Default_metadata_names_on_the_typical_schema_name_the_setting_to_change()
    {
        var mapping = Typical();
        mapping.Tracks = mapping.Tracks with { Id = "track_id" };
        var e = await Assert.ThrowsAsync<SchemaMappingException>(() => new PostgresTrackSource(_db, mapping).ReadTracksAsync());
        Assert.Contains("RecSys:Db:Tracks:Id = 'track_id'", e.Message);

        mapping = Typical();
        mapping.Artists = mapping.Artists with { Id = "artist_id" };
        e = await Assert.ThrowsAsync<SchemaMappingException>(() => new PostgresTrackSource(_db, mapping).ReadTracksAsync());
        Assert.Contains("RecSys:Db:Artists:Id = 'artist_id'", e.Message);
    }

    [Fact]
    public async Task Metadata_columns_a_table_lacks_can_be_mapped_away()
    {
        _fixture.Execute("CREATE TABLE app.bare_tracks (id bigint, name text)");
        _fixture.Execute("INSERT INTO app.bare_tracks VALUES (10, 'Only a name')");
        var mapping = new PostgresMapping
        {
            Tracks = new TracksMapping { Table = "app.bare_tracks", Id = "id", Title = "name", ArtistId = "", AlbumId = "", DurationMs = "", PreviewUrl = "", CoverUrl = "" },
            Artists = new ArtistsMapping { Table = "" },
        };
        var rows = await new PostgresTrackSource(_db, mapping).ReadTracksAsync();
        Assert.Equal(new TrackInfo(10, "Only a name", null, null, null, null, null, null), Assert.Single(rows.Tracks));
    }

    [Fact]
    public async Task Import_into_the_typical_schema_writes_the_mapped_columns_and_refuses_to_lose_weights()
    {
        var table = new InteractionTable();
        table.Add(9, 10, 1);
        table.Add(9, 11, 1);
        var importer = new PostgresImporter(_db, Typical());
        var result = await importer.ImportInteractionsAsync(new InteractionData(table, "f"), new PostgresImporter.Content("plays", "unit", "f.tsv"));
        Assert.Equal(2, result.Plays);
        var counts = Counts(await new PostgresInteractionSource(_db, Typical()).ReadAsync());
        Assert.Equal(1, counts[(9, 10)]);

        var weighted = new InteractionTable();
        weighted.Add(9, 12, 4);
        var e = await Assert.ThrowsAsync<SchemaMappingException>(() =>
            importer.ImportInteractionsAsync(new InteractionData(weighted, "w"), new PostgresImporter.Content("plays", "weighted", "w.tsv")));
        Assert.Contains("RecSys:Db:Interactions:Weight", e.Message);
        Assert.Contains("weight 4", e.Message);
    }

    [Fact]
    public async Task A_fractional_weight_is_not_rounded_into_an_integer_weight_column()
    {
        _fixture.Execute("ALTER TABLE app.interactions ADD COLUMN listens int");
        var mapping = Typical();
        mapping.Interactions = mapping.Interactions with { Weight = "listens" };
        var table = new InteractionTable();
        table.Add(9, 10, 3);
        var importer = new PostgresImporter(_db, mapping);
        await importer.ImportInteractionsAsync(new InteractionData(table, "whole"), new PostgresImporter.Content("plays", "whole", "whole.tsv"));
        table.Add(9, 11, 2.5f);
        var e = await Assert.ThrowsAsync<SchemaMappingException>(() =>
            importer.ValidateAsync(new InteractionData(table, "half.tsv"), tracks: false, artists: false));
        Assert.Contains("half.tsv: user 9, track 11 has weight 2.5", e.Message);
        Assert.Contains("whole numbers only", e.Message);
    }

    [Fact]
    public async Task A_grown_file_may_refill_a_table_emptied_since_its_first_import()
    {
        var table = new InteractionTable();
        table.Add(9, 10, 1);
        var importer = new PostgresImporter(_db, Typical());
        var content = new PostgresImporter.Content("plays", "v1", "/data/grows.tsv");
        await importer.ImportInteractionsAsync(new InteractionData(table, "f"), content);
        _fixture.Execute("TRUNCATE app.interactions");
        table.Add(9, 11, 1);
        var refill = await importer.ImportInteractionsAsync(new InteractionData(table, "f"), content with { Sha256 = "v2" });
        Assert.Equal(2, refill.Plays);
        Assert.Equal(2, _fixture.Scalar("SELECT count(*) FROM app.interactions"));
    }

    [Fact]
    public async Task Importing_the_same_content_twice_changes_nothing_and_other_content_under_one_name_is_refused()
    {
        var table = new InteractionTable();
        table.Add(9, 10, 1);
        var importer = new PostgresImporter(_db, Typical());
        var content = new PostgresImporter.Content("plays", "same-sha", "/data/plays.tsv");
        Assert.False((await importer.ImportInteractionsAsync(new InteractionData(table, "f"), content)).AlreadyImported);
        long before = _fixture.Scalar("SELECT count(*) FROM app.interactions");
        var again = await importer.ImportInteractionsAsync(new InteractionData(table, "f"), content);
        Assert.True(again.AlreadyImported);
        Assert.Equal(0, again.Plays);
        Assert.Equal(before, _fixture.Scalar("SELECT count(*) FROM app.interactions"));

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            importer.ImportInteractionsAsync(new InteractionData(table, "f"), content with { Sha256 = "changed" }));
        Assert.Contains("/data/plays.tsv was imported before with other content", e.Message);
        Assert.Equal(before, _fixture.Scalar("SELECT count(*) FROM app.interactions"));
    }

    [Fact]
    public async Task Metadata_import_upserts_by_id_into_mapped_tables_without_unique_keys()
    {
        _fixture.Execute("""
            CREATE TABLE app.loose_tracks (id bigint, title text, artist_id bigint, album_id bigint, duration_ms bigint, preview_url text, cover_url text);
            CREATE TABLE app.loose_artists (id bigint, name text);
            """);
        var mapping = new PostgresMapping
        {
            Tracks = new TracksMapping { Table = "app.loose_tracks", Id = "id" },
            Artists = new ArtistsMapping { Table = "app.loose_artists", Id = "id" },
        };
        var importer = new PostgresImporter(_db, mapping);
        TrackInfo[] tracks = [new(1, "One", 7, null, null, 1000, null, null), new(2, "Two", 7, null, null, null, null, "c2")];
        await importer.ImportArtistsAsync([(7, "Seven")]);
        await importer.ImportTracksAsync(tracks);
        await importer.ImportTracksAsync(tracks);
        await importer.ImportArtistsAsync([(7, "Seven")]);
        Assert.Equal(2, _fixture.Scalar("SELECT count(*) FROM app.loose_tracks"));
        Assert.Equal(1, _fixture.Scalar("SELECT count(*) FROM app.loose_artists"));

        await importer.ImportTracksAsync([tracks[0] with { Title = "One (remaster)" }]);
        var read = (await new PostgresTrackSource(_db, mapping).ReadTracksAsync()).Tracks.OrderBy(t => t.TrackId).ToList();
        Assert.Equal(new TrackInfo(1, "One (remaster)", 7, "Seven", null, 1000, null, null), read[0]);
        Assert.Equal("Seven", read[1].ArtistName);
    }
}
