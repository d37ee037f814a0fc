using Npgsql;
using NpgsqlTypes;

namespace RecSys.Engine.Data;

/// <summary>
/// Bulk-loads plays and metadata into the mapped tables: binary COPY into a temporary staging table,
/// then one INSERT (plays) or update-then-insert (metadata) into the target, one transaction per
/// table, so the target's own column types apply and a failed load leaves that table as it was
/// (<see cref="ValidateAsync"/> checks everything an import will need before any table is written).
/// Play files are recorded in the <see cref="ImportLedger"/> by content hash: importing the same
/// content again changes nothing; metadata is upserted by id, so it is idempotent by itself.
/// </summary>
public sealed class PostgresImporter(string connectionString, PostgresMapping? mapping = null)
{
    private readonly PostgresMapping _mapping = mapping ?? new PostgresMapping();

    /// <summary>Result counts of an import; <see cref="AlreadyImported"/> when the plays' content was imported before (nothing written).</summary>
    public sealed record ImportResult(long Plays, long Tracks, long Artists, bool AlreadyImported = false);

    /// <summary>What is imported: a kind, what identifies its content (a SHA-256, or the demo's settings), and a name for messages.</summary>
    public sealed record Content(string Kind, string Sha256, string Source);

    /// <summary>
    /// Checks, before anything is written, that the mapped tables an import will write exist, can be
    /// written and can keep <paramref name="plays"/>' weights; throws naming the setting or the row.
    /// </summary>
    public Task ValidateAsync(InteractionData? plays, bool tracks, bool artists, CancellationToken cancellationToken = default) =>
        InTransactionAsync((connection, _) =>
        {
            if (plays is not null)
            {
                var mapped = ResolvePlays(connection);
                if (WeightProblem(mapped, plays.Table) is { } problem) throw new SchemaMappingException($"{plays.Source}: {problem}");
            }
            if (tracks || artists)
            {
                var metadata = MappedTracks.Resolve(connection, _mapping.Tracks, _mapping.Artists);
                if (tracks) metadata.WritableTracks();
                if (artists) metadata.WritableArtists();
            }
            return 0;
        }, cancellationToken);

    /// <summary>Empties the mapped tables and the import ledger.</summary>
    public Task TruncateAsync(CancellationToken cancellationToken = default) => InTransactionAsync((connection, tx) =>
    {
        var plays = ResolvePlays(connection);
        var metadata = MappedTracks.Resolve(connection, _mapping.Tracks, _mapping.Artists);
        ImportLedger.Ensure(connection, tx);
        var tables = new List<string> { plays.Table, ImportLedger.Table };
        if (metadata.HasTracks) tables.Add(metadata.WritableTracks().SqlName);
        if (metadata.HasArtists) tables.Add(metadata.WritableArtists().SqlName);
        Execute(connection, tx, $"TRUNCATE {string.Join(", ", tables)}");
        return 0;
    }, cancellationToken);

    /// <summary>Imports the demo catalog: artists, tracks and every generated play (qualified or not).</summary>
    public async Task<ImportResult> ImportDemoAsync(DemoCatalog catalog, bool replace = false, CancellationToken cancellationToken = default)
    {
        var o = catalog.Options;
        var content = new Content("plays", $"demo:seed={o.Seed},users={o.Users},tracks={o.Tracks},plays={o.Plays}", "demo");
        long artists = await ImportArtistsAsync(catalog.Artists.Select(a => (a.Id, a.Name)).ToList(), replace, cancellationToken);
        long tracks = await ImportTracksAsync(catalog.Tracks, MappedTracks.TrackFields.ToHashSet(), replace, cancellationToken);
        var plays = await ImportPlaysAsync(content, null, replace, writer =>
        {
            long count = 0;
            catalog.GeneratePlays(p =>
            {
                WritePlay(writer, p.UserId, p.TrackId, p.Milestone, p.IsCompleted, p.CreatedAtUtc, weight: null);
                count++;
            });
            return count;
        }, cancellationToken);
        return new ImportResult(plays ?? 0, tracks, artists, plays is null);
    }

    /// <summary>
    /// Imports interaction rows from a file: each row becomes one completed play (milestone 100, played
    /// at the import's time) that carries the row's weight in the mapped weight column. A table without
    /// a weight column takes only weights of 1, an integer weight column only whole weights (the table
    /// would otherwise lose or round them).
    /// </summary>
    public async Task<ImportResult> ImportInteractionsAsync(InteractionData data, Content content, bool replace = false, CancellationToken cancellationToken = default)
    {
        var table = data.Table;
        var plays = await ImportPlaysAsync(content, data, replace, writer =>
        {
            for (int i = 0; i < table.Count; i++)
            {
                WritePlay(writer, table.Users[i], table.Items[i], 100, true, playedAt: null, table.Weights[i]);
            }
            return table.Count;
        }, cancellationToken);
        return new ImportResult(plays ?? 0, 0, 0, plays is null);
    }

    /// <summary>Imports plays exactly as given (tests and tools that have real play rows); not recorded in the ledger.</summary>
    public async Task<long> ImportPlaysAsync(IEnumerable<Play> plays, CancellationToken cancellationToken = default) =>
        await ImportPlaysAsync(null, null, replace: false, writer =>
        {
            long n = 0;
            foreach (var p in plays)
            {
                WritePlay(writer, p.UserId, p.TrackId, p.Milestone, p.IsCompleted, p.CreatedAtUtc, weight: null);
                n++;
            }
            return n;
        }, cancellationToken) ?? 0;

    /// <summary>
    /// Upserts tracks by id into the mapped tracks table, writing the <paramref name="fields"/> given
    /// (staging names, <see cref="MappedTracks.TrackFields"/>; all by default) and keeping the others;
    /// returns the distinct tracks written. <paramref name="replace"/> empties the table first.
    /// </summary>
    public Task<long> ImportTracksAsync(IEnumerable<TrackInfo> tracks, IReadOnlySet<string>? fields = null, bool replace = false, CancellationToken cancellationToken = default)
    {
        var distinct = LastById(tracks, t => t.TrackId);
        return InTransactionAsync((connection, tx) =>
        {
            var mapped = MappedTracks.Resolve(connection, _mapping.Tracks, _mapping.Artists);
            if (replace) Execute(connection, tx, $"TRUNCATE {mapped.WritableTracks().SqlName}");
            Execute(connection, tx, """
                CREATE TEMP TABLE recsys_staging_tracks (track_id bigint, title text, artist_id bigint, album_id bigint,
                    duration_ms integer, preview_url text, cover_url text) ON COMMIT DROP
                """);
            using (var writer = connection.BeginBinaryImport($"COPY recsys_staging_tracks ({string.Join(", ", MappedTracks.TrackFields)}) FROM STDIN (FORMAT BINARY)"))
            {
                foreach (var t in distinct)
                {
                    writer.StartRow();
                    writer.Write(t.TrackId, NpgsqlDbType.Bigint);
                    WriteNullable(writer, t.Title, NpgsqlDbType.Text);
                    WriteNullable(writer, t.ArtistId, NpgsqlDbType.Bigint);
                    WriteNullable(writer, t.AlbumId, NpgsqlDbType.Bigint);
                    WriteNullable(writer, t.DurationMs, NpgsqlDbType.Integer);
                    WriteNullable(writer, t.PreviewUrl, NpgsqlDbType.Text);
                    WriteNullable(writer, t.CoverUrl, NpgsqlDbType.Text);
                }
                writer.Complete();
            }
            Execute(connection, tx, mapped.UpsertTracksSql("recsys_staging_tracks", fields ?? MappedTracks.TrackFields.ToHashSet()));
            return (long)distinct.Count;
        }, cancellationToken);
    }

    /// <summary>Upserts artists by id into the mapped artists table; returns the distinct artists written. <paramref name="replace"/> empties the table first.</summary>
    public Task<long> ImportArtistsAsync(IEnumerable<(long Id, string Name)> artists, bool replace = false, CancellationToken cancellationToken = default)
    {
        var distinct = LastById(artists, a => a.Id);
        return InTransactionAsync((connection, tx) =>
        {
            var mapped = MappedTracks.Resolve(connection, _mapping.Tracks, _mapping.Artists);
            if (replace) Execute(connection, tx, $"TRUNCATE {mapped.WritableArtists().SqlName}");
            Execute(connection, tx, "CREATE TEMP TABLE recsys_staging_artists (artist_id bigint, name text) ON COMMIT DROP");
            using (var writer = connection.BeginBinaryImport("COPY recsys_staging_artists (artist_id, name) FROM STDIN (FORMAT BINARY)"))
            {
                foreach (var (id, name) in distinct)
                {
                    writer.StartRow();
                    writer.Write(id, NpgsqlDbType.Bigint);
                    writer.Write(name, NpgsqlDbType.Text);
                }
                writer.Complete();
            }
            Execute(connection, tx, mapped.UpsertArtistsSql("recsys_staging_artists"));
            return (long)distinct.Count;
        }, cancellationToken);
    }

    /// <summary>
    /// Copies plays into staging and inserts them into the mapped table in one transaction, claiming
    /// <paramref name="content"/> in the ledger first; null when that content was imported before.
    /// </summary>
    private Task<long?> ImportPlaysAsync(Content? content, InteractionData? data, bool replace, Func<NpgsqlBinaryImporter, long> write, CancellationToken cancellationToken) =>
        InTransactionAsync<long?>((connection, tx) =>
        {
            var plays = ResolvePlays(connection);
            if (data is not null && WeightProblem(plays, data.Table) is { } problem) throw new SchemaMappingException($"{data.Source}: {problem}");
            // The ledger keys an import by its target too: the same file may go into another table.
            var entry = content is null ? null : content with { Kind = $"{content.Kind}:{plays.Table}" };
            if (replace)
            {
                Execute(connection, tx, $"TRUNCATE {plays.Table}");
                if (entry is not null) ImportLedger.Forget(connection, tx, entry.Kind);
            }
            if (entry is not null && !ImportLedger.TryClaim(connection, tx, entry, plays.Table)) return null;
            Execute(connection, tx, """
                CREATE TEMP TABLE recsys_staging_plays (user_id bigint, track_id bigint, milestone integer, is_completed boolean,
                    played_at timestamptz, weight real) ON COMMIT DROP
                """);
            long count;
            using (var writer = connection.BeginBinaryImport(
                "COPY recsys_staging_plays (user_id, track_id, milestone, is_completed, played_at, weight) FROM STDIN (FORMAT BINARY)"))
            {
                count = write(writer);
                writer.Complete();
            }
            Execute(connection, tx, plays.InsertFromSql("recsys_staging_plays"));
            if (entry is not null) ImportLedger.SetRows(connection, tx, entry, count);
            // Fresh statistics for the planner (and for the row estimate training sizes its buffers by).
            Execute(connection, tx, $"ANALYZE {plays.Table}");
            return count;
        }, cancellationToken);

    private MappedInteractions ResolvePlays(NpgsqlConnection connection)
    {
        var plays = MappedInteractions.Resolve(connection, _mapping.Interactions);
        if (!plays.IsTable)
        {
            throw new SchemaMappingException($"{PostgresMapping.Section}:Interactions:Table = {plays.Table} is a view or materialized view: db import writes tables only");
        }
        return plays;
    }

    /// <summary>Why <paramref name="plays"/>' weights cannot be kept in the mapped table, or null.</summary>
    private static string? WeightProblem(MappedInteractions plays, InteractionTable table)
    {
        var weights = table.Weights;
        for (int i = 0; i < weights.Length; i++)
        {
            float w = weights[i];
            string row = $"user {table.Users[i]}, track {table.Items[i]} has weight {w}";
            if (w != 1 && !plays.HasWeight)
            {
                return $"{row}, but {plays.Table} has no weight column to keep it in; " +
                    $"map {PostgresMapping.Section}:Interactions:Weight to a real or numeric column ('db init' creates 'weight')";
            }
            if (w != MathF.Round(w) && plays.WeightIsInteger)
            {
                return $"{row}, but the weight column of {plays.Table} holds whole numbers only; map {PostgresMapping.Section}:Interactions:Weight to a real or numeric column";
            }
        }
        return null;
    }

    private static List<T> LastById<T>(IEnumerable<T> rows, Func<T, long> id)
    {
        var at = new Dictionary<long, int>();
        var list = new List<T>();
        foreach (var row in rows)
        {
            if (at.TryGetValue(id(row), out int i)) list[i] = row;
            else
            {
                at[id(row)] = list.Count;
                list.Add(row);
            }
        }
        return list;
    }

    private static void WritePlay(NpgsqlBinaryImporter writer, long user, long track, int milestone, bool completed, DateTime? playedAt, float? weight)
    {
        writer.StartRow();
        writer.Write(user, NpgsqlDbType.Bigint);
        writer.Write(track, NpgsqlDbType.Bigint);
        writer.Write(milestone, NpgsqlDbType.Integer);
        writer.Write(completed, NpgsqlDbType.Boolean);
        WriteNullable(writer, playedAt, NpgsqlDbType.TimestampTz);
        WriteNullable(writer, weight, NpgsqlDbType.Real);
    }

    private static void WriteNullable<T>(NpgsqlBinaryImporter writer, T? value, NpgsqlDbType type)
    {
        if (value is null) writer.WriteNull();
        else writer.Write(value, type);
    }

    /// <summary>
    /// Runs <paramref name="work"/> in one transaction on a pool thread with synchronous I/O (a task per
    /// row costs more than the row). After an awaited socket read, code may run on the runtime's socket
    /// thread (with inline socket completions, as the server sets them), where a synchronous socket wait
    /// would wait for that same thread; a pool thread has no such trap. The token is observed
    /// before the work starts; an import in flight runs to its commit or its error.
    /// </summary>
    private Task<T> InTransactionAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, T> work, CancellationToken cancellationToken) =>
        Task.Run(() =>
        {
            using var connection = new NpgsqlConnection(connectionString);
            connection.Open();
            using var tx = connection.BeginTransaction();
            T result = work(connection, tx);
            tx.Commit();
            return result;
        }, cancellationToken);

    private static void Execute(NpgsqlConnection connection, NpgsqlTransaction? tx, string sql)
    {
        using var cmd = new NpgsqlCommand(sql, connection, tx);
        cmd.ExecuteNonQuery();
    }
}
