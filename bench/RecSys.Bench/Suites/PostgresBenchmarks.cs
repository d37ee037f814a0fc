using BenchmarkDotNet.Attributes;
using Npgsql;
using RecSys.Engine.Data;

namespace RecSys.Bench.Suites;

/// <summary>
/// Reading qualified play counts from PostgreSQL (binary COPY of the aggregate). Needs RECSYS_BENCH_DB
/// (./test.sh sets it); the setup loads <see cref="Rows"/> distinct completed plays into a scratch database.
/// </summary>
public class PostgresBenchmarks
{
    private string _db = "";

    [Params(1_000_000)]
    public int Rows { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        string admin = Environment.GetEnvironmentVariable("RECSYS_BENCH_DB")
            ?? throw new InvalidOperationException("Set RECSYS_BENCH_DB to a PostgreSQL connection string to run this benchmark.");
        const string name = "recsys_bench";
        using (var c = new NpgsqlConnection(admin))
        {
            c.Open();
            using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", c);
            drop.ExecuteNonQuery();
            using var create = new NpgsqlCommand($"CREATE DATABASE {name}", c);
            create.ExecuteNonQuery();
        }
        _db = new NpgsqlConnectionStringBuilder(admin) { Database = name }.ConnectionString;
        using (var c = new NpgsqlConnection(_db))
        {
            c.Open();
            PostgresSchema.CreateAsync(c).GetAwaiter().GetResult();
        }
        var table = new InteractionTable(Rows);
        for (int i = 0; i < Rows; i++) table.Add(i / 100, i % 100_003, 1);
        new PostgresImporter(_db).ImportInteractionsAsync(new InteractionData(table, "bench"), new PostgresImporter.Content("plays", "bench", "bench")).GetAwaiter().GetResult();
    }

    [Benchmark]
    public int ReadQualifiedCounts() => new PostgresInteractionSource(_db).ReadAsync().GetAwaiter().GetResult().Table.Count;
}
