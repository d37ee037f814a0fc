using Npgsql;

namespace RecSys.Tests;

/// <summary>
/// A fresh database on the real PostgreSQL that ./test.sh starts (RECSYS_TEST_DB names its
/// maintenance database); created per test class, dropped afterwards.
/// </summary>
public sealed class PostgresFixture : IDisposable
{
    private readonly string _admin;
    private readonly string _name = "rec_test_" + Guid.NewGuid().ToString("N")[..12];

    public PostgresFixture()
    {
        _admin = Environment.GetEnvironmentVariable("RECSYS_TEST_DB")
            ?? throw new InvalidOperationException(
                "RECSYS_TEST_DB is not set: database tests need the PostgreSQL that ./test.sh starts. Run ./test.sh.");
        using var c = new NpgsqlConnection(_admin);
        c.Open();
        using var cmd = new NpgsqlCommand($"CREATE DATABASE {_name}", c);
        cmd.ExecuteNonQuery();
        ConnectionString = new NpgsqlConnectionStringBuilder(_admin) { Database = _name, Pooling = false }.ConnectionString;
    }

    public string ConnectionString { get; }

    /// <summary>Runs SQL on the test database (synchronously: not after an await in a server test, see <see cref="ExecuteAsync"/>).</summary>
    public void Execute(string sql)
    {
        using var c = new NpgsqlConnection(ConnectionString);
        c.Open();
        using var cmd = new NpgsqlCommand(sql, c);
        cmd.ExecuteNonQuery();
    }

    /// <summary>Runs SQL without blocking: after an await a test may run on a socket thread (the inline-completions rerun).</summary>
    public async Task ExecuteAsync(string sql)
    {
        await using var c = new NpgsqlConnection(ConnectionString);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, c);
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>The first column of the first row, as a number (counts, sums).</summary>
    public long Scalar(string sql)
    {
        using var c = new NpgsqlConnection(ConnectionString);
        c.Open();
        using var cmd = new NpgsqlCommand(sql, c);
        return Convert.ToInt64(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>db init's tables, emptied, holding a small demo catalog (300 users, 1,500 tracks, 30k plays) with its metadata.</summary>
    public async Task SeedDemoAsync(ulong seed = 5)
    {
        await using (var c = new NpgsqlConnection(ConnectionString))
        {
            await c.OpenAsync();
            await RecSys.Engine.Data.PostgresSchema.CreateAsync(c);
        }
        var importer = new RecSys.Engine.Data.PostgresImporter(ConnectionString);
        await importer.TruncateAsync();
        await importer.ImportDemoAsync(RecSys.Engine.Data.DemoCatalog.Generate(new RecSys.Engine.Data.DemoOptions { Users = 300, Tracks = 1500, Plays = 30_000, Seed = seed }));
    }

    /// <inheritdoc cref="Scalar"/>
    public async Task<long> ScalarAsync(string sql)
    {
        await using var c = new NpgsqlConnection(ConnectionString);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, c);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public void Dispose()
    {
        using var c = new NpgsqlConnection(_admin);
        c.Open();
        using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS {_name} WITH (FORCE)", c);
        cmd.ExecuteNonQuery();
    }
}
