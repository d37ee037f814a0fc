using Npgsql;
using NpgsqlTypes;

namespace RecSys.Engine.Data;

/// <summary>
/// Bulk-loads plays and metadata into the mapped tables: binary COPY into a temporary staging table,
/// then one INSERT (plays) or update-then-insert (metadata) into the target, in one transaction, so
/// the target's own column types apply and a failed import leaves nothing behind. Imports of plays
/// are recorded in <c>recsys_imports</c> by content hash: importing the same content again changes
/// nothing (metadata is upserted by id, so it is idempotent by itself).
/// </summary>
public sealed class PostgresImporter(string connectionString, PostgresMapping? mapping = null)
{
    private static readonly DateTime ImportTime = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private readonly PostgresMapping _mapping = mapping ?? new PostgresMapping();

    /// <summary>The ledger of imported contents.</summary>
    public const string LedgerTable = "recsys_imports";

    private const string LedgerSql = $"""
        CREATE TABLE IF NOT EXISTS {LedgerTable} (
            kind        text        NOT NULL,
            sha256      text        NOT NULL,
            source      text        NOT NULL,
            rows        bigint      NOT NULL,
            imported_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (kind, sha256)
        )
        """;

    /// <summary>Result counts of an import; <see cref="AlreadyImported"/> when the plays' content was imported before (nothing written).</summary>
    public sealed record ImportResult(long Plays, long Tracks, long Artists, bool AlreadyImported = false);

    /// <summary>Something to import and the identity of its content: a kind, a SHA-256 and a name for messages.</summary>
    public sealed record Content(string Kind, string Sha256, string Source);

    /// <summary>Empties the mapped tables and the import ledger (used by <c>--replace</c>).</summary>
    public async Task TruncateAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var plays = MappedInteractions.Resolve(connection, _mapping.Interactions);
        var tracks = MappedTracks.Resolve(connection, _mapping.Tracks, _mapping.Artists);
        await ExecuteAsync(connection, null, LedgerSql, cancellationToken);
        var tables = new List<string> { plays.Table, LedgerTable };
        if (tracks.HasTracks) tables.Add(tracks.TracksTable!);
        if (tracks.HasArtists) tables.Add(tracks.ArtistsTable!);
        await ExecuteAsync(connection, null, $"TRUNCATE {string.Join(", ", tables)}", cancellationToken);
    }

    /// <summary>Imports the demo catalog: artists, tracks and every generated play (qualified or not).</summary>
    public async Task<ImportResult> ImportDemoAsync(DemoCatalog catalog, CancellationToken cancellationToken = default)
    {
        var o = catalog.Options;
        var content = new Content("plays", $"demo:seed={o.Seed},users={o.Users},tracks={o.Tracks},plays={o.Plays}", "demo");
        long artists = await ImportArtistsAsync(catalog.Artists.Select(a => (a.Id, a.Name)).ToList(), cancellationToken);
        long tracks = await ImportTracksAsync(catalog.Tracks, cancellationToken);
        var plays = await ImportPlaysAsync(content, writer =>
        {
            long count = 0;
            catalog.GeneratePlays(p =>
            {
                WritePlay(writer, p, weight: null);
                count++;
            });
            return count;
        }, cancellationToken);
        return new ImportResult(plays ?? 0, tracks, artists, plays is null);
    }

    /// <summary>
    /// Imports interaction rows from a file: each row becomes one completed play (milestone 100) that
    /// carries the row's weight in the mapped weight column. Without a weight column, only files whose
    /// weights are all 1 can be imported (the table would otherwise lose them).
    /// </summary>
    public async Task<ImportResult> ImportInteractionsAsync(InteractionData data, Content content, CancellationToken cancellationToken = default)
    {
        var table = data.Table;
        var plays = await ImportPlaysAsync(content, writer =>
        {
            for (int i = 0; i < table.Count; i++)
            {
                WritePlay(writer, new Play(table.Users[i], table.Items[i], 100, true, ImportTime), table.Weights[i]);
            }
            return table.Count;
        }, cancellationToken, firstNonUnitWeight: FirstNonUnitWeight(table));
        return new ImportResult(plays ?? 0, 0, 0, plays is null);
    }

    private static string? FirstNonUnitWeight(InteractionTable table)
    {
        var weights = table.Weights;
        for (int i = 0; i < weights.Length; i++)
        {
            if (weights[i] != 1) return $"user {table.Users[i]}, track {table.Items[i]} has weight {weights[i]}";
        }
        return null;
    }

    /// <summary>Imports plays exactly as given (tests and tools that have real play rows); not recorded in the ledger.</summary>
    public async Task<long> ImportPlaysAsync(IEnumerable<Play> plays, CancellationToken cancellationToken = default) =>
        await ImportPlaysAsync(null, writer =>
        {
            long n = 0;
            foreach (var p in plays)
            {
                WritePlay(writer, p, weight: null);
                n++;
            }
            return n;
        }, cancellationToken) ?? 0;

    /// <summary>Upserts tracks by id into the mapped tracks table; returns the distinct tracks written.</summary>
    public async Task<long> ImportTracksAsync(IEnumerable<TrackInfo> tracks, CancellationToken cancellationToken = default)
    {
        var distinct = LastById(tracks, t => t.TrackId);
        return await InTransactionAsync(async (connection, tx) =>
        {
            var mapped = MappedTracks.Resolve(connection, _mapping.Tracks, _mapping.Artists);
            await ExecuteAsync(connection, tx, """
                CREATE TEMP TABLE recsys_staging_tracks (track_id bigint, title text, artist_id bigint, album_id bigint,
                    duration_ms integer, preview_url text, cover_url text) ON COMMIT DROP
                """, cancellationToken);
            await Task.Run(() =>
            {
                using var writer = connection.BeginBinaryImport($"COPY recsys_staging_tracks ({string.Join(", ", MappedTracks.TrackFields)}) FROM STDIN (FORMAT BINARY)");
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
            }, cancellationToken);
            await ExecuteAsync(connection, tx, mapped.UpsertTracksSql("recsys_staging_tracks"), cancellationToken);
            return (long)distinct.Count;
        }, cancellationToken);
    }

    /// <summary>Upserts artists by id into the mapped artists table; returns the distinct artists written.</summary>
    public async Task<long> ImportArtistsAsync(IEnumerable<(long Id, string Name)> artists, CancellationToken cancellationToken = default)
    {
        var distinct = LastById(artists, a => a.Id);
        return await InTransactionAsync(async (connection, tx) =>
        {
            var mapped = MappedTracks.Resolve(connection, _mapping.Tracks, _mapping.Artists);
            await ExecuteAsync(connection, tx, "CREATE TEMP TABLE recsys_staging_artists (artist_id bigint, name text) ON COMMIT DROP", cancellationToken);
            await Task.Run(() =>
            {
                using var writer = connection.BeginBinaryImport("COPY recsys_staging_artists (artist_id, name) FROM STDIN (FORMAT BINARY)");
                foreach (var (id, name) in distinct)
                {
                    writer.StartRow();
                    writer.Write(id, NpgsqlDbType.Bigint);
                    writer.Write(name, NpgsqlDbType.Text);
                }
                writer.Complete();
            }, cancellationToken);
            await ExecuteAsync(connection, tx, mapped.UpsertArtistsSql("recsys_staging_artists"), cancellationToken);
            return (long)distinct.Count;
        }, cancellationToken);
    }

    /// <summary>
    /// Copies plays into staging and inserts them into the mapped table in one transaction, recording
    /// <paramref name="content"/> in the ledger first; null when that content was imported before.
    /// </summary>
    private async Task<long?> ImportPlaysAsync(Content? content, Func<NpgsqlBinaryImporter, long> write, CancellationToken cancellationToken, string? firstNonUnitWeight = null) =>
        await InTransactionAsync<long?>(async (connection, tx) =>
        {
            var plays = MappedInteractions.Resolve(connection, _mapping.Interactions);
            if (firstNonUnitWeight is not null && !plays.HasWeight)
            {
                throw new SchemaMappingException(
                    $"{content?.Source}: {firstNonUnitWeight}, but {plays.Table} has no weight column to keep it in; " +
                    $"map {PostgresMapping.Section}:Interactions:Weight to a real or numeric column ('db init' creates 'weight')");
            }
            // The ledger keys an import by its target too: the same file may go into another table.
            content = content is null ? null : content with { Kind = $"{content.Kind}:{plays.Table}" };
            if (content is not null && !await RecordAsync(connection, tx, content, plays.Table, cancellationToken)) return null;
            await ExecuteAsync(connection, tx, """
                CREATE TEMP TABLE recsys_staging_plays (user_id bigint, track_id bigint, milestone integer, is_completed boolean,
                    played_at timestamptz, weight real) ON COMMIT DROP
                """, cancellationToken);
            // The synchronous writer (a task per row costs more than the row) on a pool thread: after an
            // awaited socket read this code may run on the runtime's socket thread (with inline socket
            // completions, as a server sets them), where a synchronous socket wait would wait for that same thread.
            long count = await Task.Run(() =>
            {
                using var writer = connection.BeginBinaryImport(
                    "COPY recsys_staging_plays (user_id, track_id, milestone, is_completed, played_at, weight) FROM STDIN (FORMAT BINARY)");
                long n = write(writer);
                writer.Complete();
                return n;
            }, cancellationToken);
            await ExecuteAsync(connection, tx, plays.InsertFromSql("recsys_staging_plays"), cancellationToken);
            if (content is not null)
            {
                await using var rows = new NpgsqlCommand($"UPDATE {LedgerTable} SET rows = $3 WHERE kind = $1 AND sha256 = $2", connection, tx);
                rows.Parameters.AddWithValue(content.Kind);
                rows.Parameters.AddWithValue(content.Sha256);
                rows.Parameters.AddWithValue(count);
                await rows.ExecuteNonQueryAsync(cancellationToken);
            }
            // Fresh statistics for the planner (and for the row estimate training sizes its buffers by).
            await ExecuteAsync(connection, tx, $"ANALYZE {plays.Table}", cancellationToken);
            return count;
        }, cancellationToken);

    /// <summary>
    /// Claims <paramref name="content"/> in the ledger: false when the same content was imported before.
    /// The same source name with other content is refused, since importing it would double the rows the
    /// first import wrote.
    /// </summary>
    private static async Task<bool> RecordAsync(NpgsqlConnection connection, NpgsqlTransaction tx, Content content, string table, CancellationToken cancellationToken)
    {
        await ExecuteAsync(connection, tx, LedgerSql, cancellationToken);
        if (!await ClaimAsync(connection, tx, content, cancellationToken))
        {
            // A ledger that remembers imports into a table emptied since (TRUNCATE, a new database from
            // a dump without the rows) would refuse the import that refills it: forget those entries.
            await using var any = new NpgsqlCommand($"SELECT EXISTS (SELECT 1 FROM {table})", connection, tx);
            if ((bool)(await any.ExecuteScalarAsync(cancellationToken))!) return false;
            await using var forget = new NpgsqlCommand($"DELETE FROM {LedgerTable} WHERE kind = $1", connection, tx);
            forget.Parameters.AddWithValue(content.Kind);
            await forget.ExecuteNonQueryAsync(cancellationToken);
            if (!await ClaimAsync(connection, tx, content, cancellationToken)) return false;
        }
        await using var other = new NpgsqlCommand(
            $"SELECT rows, imported_at FROM {LedgerTable} WHERE kind = $1 AND source = $2 AND sha256 <> $3 LIMIT 1", connection, tx);
        other.Parameters.AddWithValue(content.Kind);
        other.Parameters.AddWithValue(content.Source);
        other.Parameters.AddWithValue(content.Sha256);
        await using var reader = await other.ExecuteReaderAsync(cancellationToken);
        if (await reader.ReadAsync(cancellationToken))
        {
            throw new InvalidOperationException(
                $"{content.Source} was imported before with other content ({reader.GetInt64(0):N0} rows at {reader.GetDateTime(1):u}); " +
                "importing it again would add its old rows twice. Use --replace to reload the tables, or import a file that holds only the new rows");
        }
        return true;
    }

    private static async Task<bool> ClaimAsync(NpgsqlConnection connection, NpgsqlTransaction tx, Content content, CancellationToken cancellationToken)
    {
        await using var claim = new NpgsqlCommand(
            $"INSERT INTO {LedgerTable} (kind, sha256, source, rows) VALUES ($1, $2, $3, 0) ON CONFLICT DO NOTHING", connection, tx);
        claim.Parameters.AddWithValue(content.Kind);
        claim.Parameters.AddWithValue(content.Sha256);
        claim.Parameters.AddWithValue(content.Source);
        return await claim.ExecuteNonQueryAsync(cancellationToken) > 0;
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

    private static void WritePlay(NpgsqlBinaryImporter writer, Play p, float? weight)
    {
        writer.StartRow();
        writer.Write(p.UserId, NpgsqlDbType.Bigint);
        writer.Write(p.TrackId, NpgsqlDbType.Bigint);
        writer.Write(p.Milestone, NpgsqlDbType.Integer);
        writer.Write(p.IsCompleted, NpgsqlDbType.Boolean);
        writer.Write(p.CreatedAtUtc, NpgsqlDbType.TimestampTz);
        WriteNullable(writer, weight, NpgsqlDbType.Real);
    }

    private static void WriteNullable<T>(NpgsqlBinaryImporter writer, T? value, NpgsqlDbType type)
    {
        if (value is null) writer.WriteNull();
        else writer.Write(value, type);
    }

    private async Task<T> InTransactionAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        T result = await work(connection, tx);
        await tx.CommitAsync(cancellationToken);
        return result;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, string sql, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand(sql, connection, tx);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }
}
