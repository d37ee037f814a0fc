using System.CommandLine;
using System.Text.Json;
using Npgsql;
using RecSys.Engine.Data;
using RecSys.Server.Sources;

namespace RecSys.Server.Cli;

/// <summary><c>recsys db init|import</c>: create the original design's schema and bulk-load it.</summary>
internal static class DbCommands
{
    public static Command Create()
    {
        var db = new Command("db", "PostgreSQL schema and bulk import");
        db.Subcommands.Add(Init());
        db.Subcommands.Add(Import());
        return db;
    }

    private static Command Init()
    {
        var cmd = new Command("init", "Create the artists, tracks and interactions tables (idempotent)");
        var dbOption = CliOptions.Db();
        cmd.Options.Add(dbOption);
        cmd.SetAction(async (r, ct) =>
        {
            await using var connection = new NpgsqlConnection(InteractionSources.RequireDb(r.GetValue(dbOption)));
            await connection.OpenAsync(ct);
            await PostgresSchema.CreateAsync(connection, ct);
            Console.WriteLine($"schema ready in {connection.Database} on {connection.Host}:{connection.Port}");
            return 0;
        });
        return cmd;
    }

    private static Command Import()
    {
        var cmd = new Command("import", "Bulk-load plays (binary COPY) from a file or the demo catalog");
        var input = new InputOptions();
        input.AddTo(cmd);
        var replace = new Option<bool>("--replace") { Description = "Empty the tables before loading" };
        var json = CliOptions.Json();
        cmd.Options.Add(replace);
        cmd.Options.Add(json);
        cmd.SetAction(async (r, ct) =>
        {
            string connectionString = InteractionSources.RequireDb(r.GetValue(input.Db));
            string source = r.GetValue(input.Input)!;
            if (source is "db" or "postgres")
            {
                throw new CliException("--input for 'db import' is a file or 'demo', not the database itself");
            }
            await using (var connection = new NpgsqlConnection(connectionString))
            {
                await connection.OpenAsync(ct);
                await PostgresSchema.CreateAsync(connection, ct);
            }
            var importer = new PostgresImporter(connectionString);
            if (r.GetValue(replace))
            {
                await importer.TruncateAsync(ct);
            }
            var started = System.Diagnostics.Stopwatch.StartNew();
            PostgresImporter.ImportResult result;
            long skipped = 0;
            if (source == "demo")
            {
                result = await importer.ImportDemoAsync(DemoCatalog.Generate(input.Demo(r)), ct);
            }
            else
            {
                var data = await input.LoadAsync(r, ct);
                skipped = data.SkippedRows;
                result = await importer.ImportInteractionsAsync(data, ct);
                Console.Error.WriteLine("note: each file row was stored as one completed play; the interactions table holds plays, not weights");
            }
            double seconds = started.Elapsed.TotalSeconds;
            if (r.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    plays = result.Plays,
                    tracks = result.Tracks,
                    artists = result.Artists,
                    skipped_rows = skipped,
                    seconds = Math.Round(seconds, 3),
                }));
            }
            else
            {
                Console.WriteLine($"imported {result.Plays:N0} plays, {result.Tracks:N0} tracks, {result.Artists:N0} artists in {seconds:F2} s");
            }
            return 0;
        });
        return cmd;
    }
}
