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

    public void Dispose()
    {
        using var c = new NpgsqlConnection(_admin);
        c.Open();
        using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS {_name} WITH (FORCE)", c);
        cmd.ExecuteNonQuery();
    }
}
