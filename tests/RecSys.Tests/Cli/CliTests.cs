using System.Text.Json;
using RecSys.Engine.Model;

namespace RecSys.Tests.Cli;

public sealed class CliTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Data_stats_json_counts_distinct_pairs()
    {
        string path = _dir.Write("user_artists.dat", "userID\tartistID\tweight\r\n1\t5\t10\r\n1\t5\t2\r\n1\t6\t1\r\n2\t5\t4\r\n");
        var r = RecsysCli.Run("data", "stats", "--input", path, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("""{"users":2,"items":2,"interactions":3,"skipped_rows":0}""", r.Stdout.Trim());
    }

    [Fact]
    public void Data_stats_on_an_empty_file_fails_and_says_so()
    {
        string path = _dir.Write("empty.tsv", "");
        var r = RecsysCli.Run("data", "stats", "--input", path, "--json");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("holds no interactions", r.Stderr);
    }

    [Fact]
    public void Bad_row_fails_with_file_and_line_and_skip_reports_count()
    {
        string path = _dir.Write("plays.csv", "user,track\n1,2\n1,zz\n3,4\n");
        var bad = RecsysCli.Run("data", "stats", "--input", path, "--json");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains($"{path}:3: track_id is not an integer", bad.Stderr);
        Assert.Equal("", bad.Stdout);

        var skip = RecsysCli.Run("data", "stats", "--input", path, "--skip-bad-rows", "--json");
        Assert.Equal(0, skip.ExitCode);
        Assert.Equal("""{"users":2,"items":2,"interactions":2,"skipped_rows":1}""", skip.Stdout.Trim());
        Assert.Contains("line 3", skip.Stderr);
    }

    [Fact]
    public void Forced_format_and_unknown_format()
    {
        string path = _dir.Write("data.txt", "1,2,3\n");
        Assert.Equal("""{"users":1,"items":1,"interactions":1,"skipped_rows":0}""",
            RecsysCli.Run("data", "stats", "--input", path, "--format", "csv", "--json").Stdout.Trim());
        var r = RecsysCli.Run("data", "stats", "--input", path, "--format", "xml");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("Unknown format 'xml'", r.Stderr);
    }

    [Fact]
    public void Model_info_describes_a_good_file_and_refuses_a_bad_one()
    {
        string path = _dir.File("model.npz");
        ModelFile.Save(Model.ModelFileTests.SampleModel(), path);
        var r = RecsysCli.Run("model", "info", path, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal(3, doc.RootElement.GetProperty("users").GetInt32());
        Assert.Equal(4, doc.RootElement.GetProperty("items").GetInt32());
        Assert.Equal(2, doc.RootElement.GetProperty("factors").GetInt32());
        Assert.Equal(1, doc.RootElement.GetProperty("format_version").GetInt32());

        string bad = _dir.Write("bad.npz", "garbage");
        var e = RecsysCli.Run("model", "info", bad, "--json");
        Assert.NotEqual(0, e.ExitCode);
        Assert.Contains("bad.npz", e.Stderr);
        Assert.Contains("corrupt", e.Stderr);
        Assert.Equal("", e.Stdout);
    }

    [Fact]
    public void Demo_stats_are_deterministic()
    {
        string[] args = ["data", "stats", "--input", "demo", "--demo-users", "500", "--demo-tracks", "3000", "--demo-plays", "40000", "--json"];
        var a = RecsysCli.Run(args);
        Assert.True(a.ExitCode == 0, a.Stderr);
        Assert.Equal(a.Stdout, RecsysCli.Run(args).Stdout);
    }

    [Fact]
    public void Database_commands_without_a_connection_say_so()
    {
        var r = RecsysCli.Run(new Dictionary<string, string> { ["RECSYS_DB"] = "" }, "db", "init");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("No database configured", r.Stderr);
    }
}

public sealed class CliDatabaseTests(PostgresFixture db) : IClassFixture<PostgresFixture>
{
    [Fact]
    public void Init_import_and_stats_from_the_database()
    {
        var env = new Dictionary<string, string> { ["RECSYS_DB"] = db.ConnectionString };
        Assert.Equal(0, RecsysCli.Run(env, "db", "init").ExitCode);
        Assert.Equal(0, RecsysCli.Run(env, "db", "init").ExitCode);
        string[] demo = ["--demo-users", "300", "--demo-tracks", "2000", "--demo-plays", "20000"];
        var import = RecsysCli.Run(env, ["db", "import", "--input", "demo", "--replace", "--json", .. demo]);
        Assert.True(import.ExitCode == 0, import.Stderr);
        Assert.Equal(2000, JsonDocument.Parse(import.Stdout).RootElement.GetProperty("tracks").GetInt32());

        var fromDb = RecsysCli.Run(env, "data", "stats", "--input", "db", "--json");
        var fromDemo = RecsysCli.Run(env, ["data", "stats", "--input", "demo", "--json", .. demo]);
        Assert.True(fromDb.ExitCode == 0, fromDb.Stderr);
        Assert.Equal(fromDemo.Stdout, fromDb.Stdout);
    }
}
