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
    public Task TruncateAsync(CancellationToken cancellationToken = default) => InTransactionAsync((connection, tx) =>
    {
        var plays = MappedInteractions.Resolve(connection, _mapping.Interactions);
        var tracks = MappedTracks.Resolve(connection, _mapping.Tracks, _mapping.Artists);
        Execute(connection, tx, LedgerSql);
        var tables = new List<string> { plays.Table, LedgerTable };
        if (tracks.HasTracks) tables.Add(tracks.TracksTable!);
        if (tracks.HasArtists) tables.Add(tracks.ArtistsTable!);
        Execute(connection, tx, $"TRUNCATE {string.Join(", ", tables)}");
        return 0;
    }, cancellationToken);

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
    public Task<long> ImportTracksAsync(IEnumerable<TrackInfo> tracks, CancellationToken cancellationToken = default)
    {
        var distinct = LastById(tracks, t => t.TrackId);
        return InTransactionAsync((connection, tx) =>
        {
            var mapped = MappedTracks.Resolve(connection, _mapping.Tracks, _mapping.Artists);
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
            Execute(connection, tx, mapped.UpsertTracksSql("recsys_staging_tracks"));
            return (long)distinct.Count;
        }, cancellationToken);
    }

    /// <summary>Upserts artists by id into the mapped artists table; returns the distinct artists written.</summary>
    public Task<long> ImportArtistsAsync(IEnumerable<(long Id, string Name)> artists, CancellationToken cancellationToken = default)
    {
        var distinct = LastById(artists, a => a.Id);
        return InTransactionAsync((connection, tx) =>
        {
            var mapped = MappedTracks.Resolve(connection, _mapping.Tracks, _mapping.Artists);
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
    /// Copies plays into staging and inserts them into the mapped table in one transaction, recording
    /// <paramref name="content"/> in the ledger first; null when that content was imported before.
    /// </summary>
    private Task<long?> ImportPlaysAsync(Content? content, Func<NpgsqlBinaryImporter, long> write, CancellationToken cancellationToken, string? firstNonUnitWeight = null) =>
        InTransactionAsync<long?>((connection, tx) =>
        {
            var plays = MappedInteractions.Resolve(connection, _mapping.Interactions);
            if (firstNonUnitWeight is not null && !plays.HasWeight)
            {
                throw new SchemaMappingException(
                    $"{content?.Source}: {firstNonUnitWeight}, but {plays.Table} has no weight column to keep it in; " +
                    $"map {PostgresMapping.Section}:Interactions:Weight to a real or numeric column ('db init' creates 'weight')");
            }
            // The ledger keys an import by its target too: the same file may go into another table.
            var entry = content is null ? null : content with { Kind = $"{content.Kind}:{plays.Table}" };
            if (entry is not null && !Record(connection, tx, entry, plays.Table)) return null;
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
            if (entry is not null)
            {
                using var rows = new NpgsqlCommand($"UPDATE {LedgerTable} SET rows = $3 WHERE kind = $1 AND sha256 = $2", connection, tx);
                rows.Parameters.AddWithValue(entry.Kind);
                rows.Parameters.AddWithValue(entry.Sha256);
                rows.Parameters.AddWithValue(count);
                rows.ExecuteNonQuery();
            }
            // Fresh statistics for the planner (and for the row estimate training sizes its buffers by).
            Execute(connection, tx, $"ANALYZE {plays.Table}");
            return count;
        }, cancellationToken);

    /// <summary>
    /// Claims <paramref name="content"/> in the ledger: false when the same content was imported before.
    /// The same source name with other content is refused, since importing it would double the rows the
    /// first import wrote.
    /// </summary>
    private static bool Record(NpgsqlConnection connection, NpgsqlTransaction tx, Content content, string table)
    {
        Execute(connection, tx, LedgerSql);
        if (!Claim(connection, tx, content))
        {
            // A ledger that remembers imports into a table emptied since (TRUNCATE, a new database from
            // a dump without the rows) would refuse the import that refills it: forget those entries.
            using var any = new NpgsqlCommand($"SELECT EXISTS (SELECT 1 FROM {table})", connection, tx);
            if ((bool)any.ExecuteScalar()!) return false;
            using var forget = new NpgsqlCommand($"DELETE FROM {LedgerTable} WHERE kind = $1", connection, tx);
            forget.Parameters.AddWithValue(content.Kind);
            forget.ExecuteNonQuery();
            if (!Claim(connection, tx, content)) return false;
        }
        using var other = new NpgsqlCommand(
            $"SELECT rows, imported_at FROM {LedgerTable} WHERE kind = $1 AND source = $2 AND sha256 <> $3 LIMIT 1", connection, tx);
        other.Parameters.AddWithValue(content.Kind);
        other.Parameters.AddWithValue(content.Source);
        other.Parameters.AddWithValue(content.Sha256);
        using var reader = other.ExecuteReader();
        if (reader.Read())
        {
            throw new InvalidOperationException(
                $"{content.Source} was imported before with other content ({reader.GetInt64(0):N0} rows at {reader.GetDateTime(1):u}); " +
                "importing it again would add its old rows twice. Use --replace to reload the tables, or import a file that holds only the new rows");
        }
        return true;
    }

    private static bool Claim(NpgsqlConnection connection, NpgsqlTransaction tx, Content content)
    {
        using var claim = new NpgsqlCommand(
            $"INSERT INTO {LedgerTable} (kind, sha256, source, rows) VALUES ($1, $2, $3, 0) ON CONFLICT DO NOTHING", connection, tx);
        claim.Parameters.AddWithValue(content.Kind);
        claim.Parameters.AddWithValue(content.Sha256);
        claim.Parameters.AddWithValue(content.Source);
        return claim.ExecuteNonQuery() > 0;
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

    /// <summary>
    /// Runs <paramref name="work"/> in one transaction on a pool thread with synchronous I/O (a task per
    /// row costs more than the row). After an awaited socket read, code may run on the runtime's socket
    /// thread (with inline socket completions, as the server sets them), where a synchronous socket wait
    /// would wait for that same thread; a pool thread has no such trap.
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
