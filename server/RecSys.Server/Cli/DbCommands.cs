using System.CommandLine;
using System.Text.Json;
using Npgsql;
using RecSys.Engine.Data;
using RecSys.Engine.IO;

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
        var settings = new SettingsOption();
        cmd.Options.Add(dbOption);
        cmd.Options.Add(settings.Set);
        cmd.SetAction(async (r, ct) =>
        {
            var db = settings.Db(r, r.GetValue(dbOption));
            if (!db.Mapping.IsDefault)
            {
                throw new CliException("'db init' creates RecSys's own tables under their default names; with RecSys:Db:* mapped to your tables there is nothing to create (docs/database.md)");
            }
            await using var connection = new NpgsqlConnection(db.Require());
            await connection.OpenAsync(ct);
            await PostgresSchema.CreateAsync(connection, ct);
            await PostgresExperimentTables.CreateAsync(connection, ct);
            Console.WriteLine($"schema ready in {connection.Database} on {connection.Host}:{connection.Port}");
            return 0;
        });
        return cmd;
    }

    private static Command Import()
    {
        var cmd = new Command("import", "Bulk-load plays (binary COPY) from a file or the demo catalog, and track/artist metadata files; importing the same content again changes nothing");
        var input = new InputOptions(inputRequired: false);
        input.AddTo(cmd);
        var tracks = new Option<string?>("--tracks") { Description = "Tracks file with a header: track_id and any of title, artist_id, artist_name, album_id, duration_ms, preview_url, cover_url" };
        var artists = new Option<string?>("--artists") { Description = "Artists file with a header (artist_id, name), or Last.fm's artists.dat" };
        var replace = new Option<bool>("--replace") { Description = "Empty each table this import writes (and its ledger entries) before loading it, in the same transaction" };
        var json = CliOptions.Json();
        foreach (var o in new Option[] { tracks, artists, replace, json }) cmd.Options.Add(o);
        cmd.SetAction(async (r, ct) =>
        {
            var db = input.DbSettings(r);
            string connectionString = db.Require();
            string? source = r.GetValue(input.Input);
            string? tracksFile = r.GetValue(tracks);
            string? artistsFile = r.GetValue(artists);
            if (source is null && tracksFile is null && artistsFile is null)
            {
                throw new CliException("nothing to import: give --input (a file or 'demo'), --tracks or --artists");
            }
            if (source is not null && Sources.InteractionSources.IsDatabase(source))
            {
                throw new CliException("--input for 'db import' is a file or 'demo', not the database itself");
            }
            // Parse every file before writing anything, so a bad row fails the import with nothing written.
            var artistRows = artistsFile is null ? null : MetadataFileReader.ReadArtists(artistsFile);
            var trackRows = tracksFile is null ? null : MetadataFileReader.ReadTracks(tracksFile);
            var data = source is null or "demo" ? null : await input.LoadAsync(r, ct);

            if (db.Mapping.IsDefault)
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync(ct);
                await PostgresSchema.CreateAsync(connection, ct);
            }
            var importer = new PostgresImporter(connectionString, db.Mapping);
            bool replaceTables = r.GetValue(replace);
            bool writesTracks = source == "demo" || trackRows is not null || artistRows?.Tracks.Count > 0;
            bool writesArtists = source == "demo" || artistRows is not null || trackRows?.Artists.Count > 0;
            // Every check an import needs (mappings, writable tables, weights the table can keep) before any table is written.
            await importer.ValidateAsync(data, writesTracks, writesArtists, ct);

            var started = System.Diagnostics.Stopwatch.StartNew();
            long plays = 0, trackCount = 0, artistCount = 0;
            bool alreadyImported = false;
            if (source == "demo")
            {
                var result = await importer.ImportDemoAsync(DemoCatalog.Generate(input.Demo(r)), replaceTables, ct);
                (plays, alreadyImported) = (result.Plays, result.AlreadyImported);
                trackCount += result.Tracks;
                artistCount += result.Artists;
            }
            else if (data is not null)
            {
                var content = new PostgresImporter.Content("plays", FileHash.Sha256(source!), Path.GetFullPath(source!));
                var result = await importer.ImportInteractionsAsync(data, content, replaceTables, ct);
                (plays, alreadyImported) = (result.Plays, result.AlreadyImported);
            }
            // --replace empties a table once, before the first file that writes it.
            bool replaceTracks = replaceTables && source != "demo";
            bool replaceArtists = replaceTracks;
            foreach (var rows in new[] { artistRows, trackRows })
            {
                if (rows is null) continue;
                if (rows.Artists.Count > 0)
                {
                    artistCount += await importer.ImportArtistsAsync(rows.Artists, replaceArtists, ct);
                    replaceArtists = false;
                }
                if (rows.Tracks.Count > 0)
                {
                    trackCount += await importer.ImportTracksAsync(rows.Tracks, rows.TrackFields, replaceTracks, ct);
                    replaceTracks = false;
                }
            }
            double seconds = started.Elapsed.TotalSeconds;
            if (r.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    plays,
                    tracks = trackCount,
                    artists = artistCount,
                    skipped_rows = data?.SkippedRows ?? 0,
                    already_imported = alreadyImported,
                    seconds = Math.Round(seconds, 3),
                }));
            }
            else
            {
                if (alreadyImported) Console.WriteLine($"{source}: this content was imported before; no plays added");
                Console.WriteLine($"imported {plays:N0} plays, {trackCount:N0} tracks, {artistCount:N0} artists in {seconds:F2} s");
            }
            return 0;
        });
        return cmd;
    }
}
