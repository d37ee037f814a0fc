using System.Text.Json;
using Npgsql;

namespace RecSys.Tests.Cli;

/// <summary><c>db import</c> and <c>--input db</c> through the real executable and a real PostgreSQL.</summary>
public sealed class DbImportCliTests : IClassFixture<PostgresFixture>, IDisposable
{
    private readonly TempDir _dir = new();
    private readonly PostgresFixture _fixture;
    private readonly string _db;

    public DbImportCliTests(PostgresFixture fixture)
    {
        _fixture = fixture;
        _db = fixture.ConnectionString;
        _fixture.Execute("DROP TABLE IF EXISTS interactions, tracks, artists, recsys_imports; DROP SCHEMA IF EXISTS app CASCADE");
    }

    public void Dispose() => _dir.Dispose();

    private JsonElement Run(params string[] args)
    {
        var r = RecsysCli.Run([.. args, "--db", _db, "--json"]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        return JsonDocument.Parse(r.Stdout).RootElement.Clone();
    }

    private const string Plays = "userID\tartistID\tweight\n1\t5\t10\n1\t6\t1\n2\t5\t4\n3\t7\t250\n";
    private const string LastFmArtists = "id\tname\turl\tpictureURL\n5\tNina\thttp://www.last.fm/music/Nina\thttp://img/5.jpg\n6\tOtis\t\t\n7\tSade, Adu\thttp://x\thttp://img/7.jpg\n";

    [Fact]
    public void Importing_a_weighted_file_twice_keeps_one_copy_and_reads_back_like_the_file()
    {
        string plays = _dir.Write("user_artists.dat", Plays);
        string artists = _dir.Write("artists.dat", LastFmArtists);
        var first = Run("db", "import", "--input", plays, "--artists", artists);
        Assert.Equal(4, first.GetProperty("plays").GetInt64());
        Assert.Equal(3, first.GetProperty("tracks").GetInt64());
        Assert.Equal(3, first.GetProperty("artists").GetInt64());
        Assert.False(first.GetProperty("already_imported").GetBoolean());

        var second = Run("db", "import", "--input", plays, "--artists", artists);
        Assert.True(second.GetProperty("already_imported").GetBoolean());
        Assert.Equal(4, _fixture.Scalar("SELECT count(*) FROM interactions"));
        Assert.Equal(3, _fixture.Scalar("SELECT count(*) FROM tracks"));
        Assert.Equal(3, _fixture.Scalar("SELECT count(*) FROM artists"));
        Assert.Equal(265, _fixture.Scalar("SELECT sum(weight) FROM interactions"));

        Assert.Equal(RecsysCli.Run("data", "stats", "--input", plays, "--json").Stdout, RecsysCli.Run("data", "stats", "--input", "db", "--db", _db, "--json").Stdout);

        // The file grew: importing it again would add its old rows twice, so it is refused.
        File.AppendAllText(plays, "4\t5\t1\n");
        var grown = RecsysCli.Run("db", "import", "--input", plays, "--db", _db);
        Assert.Equal(1, grown.ExitCode);
        Assert.Contains("imported before with other content", grown.Stderr);
        Assert.Equal(4, _fixture.Scalar("SELECT count(*) FROM interactions"));
    }

    [Fact]
    public void A_tracks_file_with_quoted_fields_is_upserted_and_a_bad_row_writes_nothing()
    {
        string tracks = _dir.Write("tracks.csv",
            "track_id,title,artist_id,artist_name,duration_ms,cover_url\n" +
            "100,\"Hello, \"\"World\"\"\",5,Nina,215000,http://img/100.jpg\n" +
            "101,Plain,6,Otis,,\n");
        var result = Run("db", "import", "--tracks", tracks);
        Assert.Equal(2, result.GetProperty("tracks").GetInt64());
        Assert.Equal(2, result.GetProperty("artists").GetInt64());
        Run("db", "import", "--tracks", tracks);
        Assert.Equal(2, _fixture.Scalar("SELECT count(*) FROM tracks"));
        Assert.Equal(1, _fixture.Scalar("SELECT count(*) FROM tracks WHERE title = 'Hello, \"World\"' AND duration_ms = 215000"));

        string bad = _dir.Write("bad.csv", "track_id,title,mood\n1,x,happy\n");
        var r = RecsysCli.Run("db", "import", "--tracks", bad, "--db", _db);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"{bad}:1: unknown column 'mood'", r.Stderr);
        string badRow = _dir.Write("bad-row.csv", "track_id,title\n102,ok\nabc,no\n");
        r = RecsysCli.Run("db", "import", "--tracks", badRow, "--db", _db);
        Assert.Contains($"{badRow}:3: column 'track_id' must be a non-negative integer id", r.Stderr);
        Assert.Equal(0, _fixture.Scalar("SELECT count(*) FROM tracks WHERE track_id = 102"));
    }

    [Fact]
    public void A_file_with_fewer_columns_keeps_what_the_others_hold_and_replace_empties_only_what_it_loads()
    {
        Run("db", "import", "--tracks", _dir.Write("full.tsv", "track_id\ttitle\talbum_id\tduration_ms\tcover_url\n1\tOld\t9\t1000\tc1\n"));
        Run("db", "import", "--tracks", _dir.Write("titles.csv", "id,title\n1,New title\n"));
        Assert.Equal(1, _fixture.Scalar("SELECT count(*) FROM tracks WHERE title = 'New title' AND album_id = 9 AND duration_ms = 1000 AND cover_url = 'c1'"));

        string plays = _dir.Write("plays.tsv", "user\ttrack\n1\t1\n");
        Run("db", "import", "--input", plays);
        string others = _dir.Write("others.tsv", "user\ttrack\n2\t1\n3\t1\n");
        var replaced = Run("db", "import", "--input", others, "--replace");
        Assert.Equal(2, replaced.GetProperty("plays").GetInt64());
        Assert.Equal(2, _fixture.Scalar("SELECT count(*) FROM interactions"));
        Assert.Equal(1, _fixture.Scalar("SELECT count(*) FROM tracks"));
        // The first file again: its ledger entry went with the rows it described.
        Assert.False(Run("db", "import", "--input", plays).GetProperty("already_imported").GetBoolean());
        Assert.Equal(3, _fixture.Scalar("SELECT count(*) FROM interactions"));
    }

    [Fact]
    public void Every_database_command_takes_the_mapping_from_set()
    {
        _fixture.Execute("""
            CREATE SCHEMA app;
            CREATE TABLE app.plays (id serial, listener int, song int, pct smallint, done bool, at timestamptz);
            INSERT INTO app.plays (listener, song, pct, done) VALUES (1, 10, 100, false), (1, 11, 20, true), (2, 10, 50, false);
            """);
        string[] mapping =
        [
            "--set", "Db:Interactions:Table=app.plays", "--set", "Db:Interactions:User=listener", "--set", "Db:Interactions:Track=song",
            "--set", "Db:Interactions:Milestone=pct", "--set", "Db:Interactions:Completed=done", "--set", "Db:Interactions:PlayedAt=at",
        ];
        var stats = Run(["data", "stats", "--input", "db", .. mapping]);
        Assert.Equal(1, stats.GetProperty("users").GetInt32());
        Assert.Equal(2, stats.GetProperty("interactions").GetInt32());

        string plays = _dir.Write("more.tsv", "user\ttrack\n2\t11\n");
        Run(["db", "import", "--input", plays, .. mapping]);
        Assert.Equal(1, _fixture.Scalar("SELECT count(*) FROM app.plays WHERE listener = 2 AND song = 11 AND pct = 100 AND done"));

        var wrong = RecsysCli.Run("data", "stats", "--input", "db", "--db", _db, "--set", "Db:Interactions:Table=app.plays");
        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains("RecSys:Db:Interactions:User = 'user_id'", wrong.Stderr);

        var init = RecsysCli.Run(["db", "init", "--db", _db, .. mapping]);
        Assert.Equal(1, init.ExitCode);
        Assert.Contains("nothing to create", init.Stderr);
    }
}
