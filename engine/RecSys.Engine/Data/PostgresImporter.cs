using Npgsql;
using NpgsqlTypes;

namespace RecSys.Engine.Data;

/// <summary>Bulk-loads plays and catalog rows with binary COPY.</summary>
public sealed class PostgresImporter(string connectionString)
{
    private static readonly DateTime ImportTime = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>Result counts of an import.</summary>
    public sealed record ImportResult(long Plays, long Tracks, long Artists);

    /// <summary>Empties the three tables (used by <c>--replace</c>).</summary>
    public async Task TruncateAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = new NpgsqlCommand("TRUNCATE interactions, tracks, artists", connection);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Imports the demo catalog: artists, tracks and every generated play (qualified or not).</summary>
    public async Task<ImportResult> ImportDemoAsync(DemoCatalog catalog, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using (var writer = await connection.BeginBinaryImportAsync(
            "COPY artists (artist_id, name) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            foreach (var (id, name, _) in catalog.Artists)
            {
                await writer.StartRowAsync(cancellationToken);
                await writer.WriteAsync(id, NpgsqlDbType.Bigint, cancellationToken);
                await writer.WriteAsync(name, NpgsqlDbType.Text, cancellationToken);
            }
            await writer.CompleteAsync(cancellationToken);
        }
        await using (var writer = await connection.BeginBinaryImportAsync(
            "COPY tracks (track_id, title, artist_id, album_id, duration_ms, preview_url, cover_url) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            foreach (var t in catalog.Tracks)
            {
                await writer.StartRowAsync(cancellationToken);
                await writer.WriteAsync(t.TrackId, NpgsqlDbType.Bigint, cancellationToken);
                await writer.WriteAsync(t.Title, NpgsqlDbType.Text, cancellationToken);
                await writer.WriteAsync(t.ArtistId!.Value, NpgsqlDbType.Bigint, cancellationToken);
                await writer.WriteAsync(t.AlbumId!.Value, NpgsqlDbType.Bigint, cancellationToken);
                await writer.WriteAsync(t.DurationMs!.Value, NpgsqlDbType.Integer, cancellationToken);
                await writer.WriteAsync(t.PreviewUrl, NpgsqlDbType.Text, cancellationToken);
                await writer.WriteAsync(t.CoverUrl, NpgsqlDbType.Text, cancellationToken);
            }
            await writer.CompleteAsync(cancellationToken);
        }

        long plays = await CopyPlaysAsync(connection, writer =>
        {
            long count = 0;
            catalog.GeneratePlays(p =>
            {
                WritePlay(writer, p);
                count++;
            });
            return count;
        }, cancellationToken);
        await AnalyzeAsync(connection, cancellationToken);
        return new ImportResult(plays, catalog.Tracks.Count, catalog.Artists.Count);
    }

    /// <summary>
    /// Imports interaction rows from a file as plays. The interactions table records plays, not
    /// weights, so each row becomes one completed play (milestone 100); the weight is not stored.
    /// </summary>
    public async Task<ImportResult> ImportInteractionsAsync(InteractionData data, CancellationToken cancellationToken = default)
    {
        long plays = await ImportPlaysAsync(AsCompletedPlays(data.Table), cancellationToken);
        return new ImportResult(plays, 0, 0);
    }

    private static IEnumerable<Play> AsCompletedPlays(InteractionTable table)
    {
        for (int i = 0; i < table.Count; i++)
        {
            yield return new Play(table.Users[i], table.Items[i], 100, true, ImportTime);
        }
    }

    /// <summary>Imports plays exactly as given (used by tests and tools that have real play rows).</summary>
    public async Task<long> ImportPlaysAsync(IEnumerable<Play> plays, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        long count = await CopyPlaysAsync(connection, writer =>
        {
            long n = 0;
            foreach (var p in plays)
            {
                WritePlay(writer, p);
                n++;
            }
            return n;
        }, cancellationToken);
        await AnalyzeAsync(connection, cancellationToken);
        return count;
    }

    /// <summary>
    /// Copies plays with the synchronous writer (a task per row costs more than the row) on a pool
    /// thread. After an awaited socket read this code may run on the runtime's socket thread (with
    /// inline socket completions, as a server sets them), where a synchronous socket wait would wait
    /// for that same thread.
    /// </summary>
    private static Task<long> CopyPlaysAsync(NpgsqlConnection connection, Func<NpgsqlBinaryImporter, long> write, CancellationToken cancellationToken) =>
        Task.Run(() =>
        {
            using var writer = connection.BeginBinaryImport(CopyPlaysSql);
            long count = write(writer);
            writer.Complete();
            return count;
        }, cancellationToken);

    private const string CopyPlaysSql =
        "COPY interactions (user_id, track_id, milestone, is_completed, created_at) FROM STDIN (FORMAT BINARY)";

    private static void WritePlay(NpgsqlBinaryImporter writer, Play p)
    {
        writer.StartRow();
        writer.Write(p.UserId, NpgsqlDbType.Bigint);
        writer.Write(p.TrackId, NpgsqlDbType.Bigint);
        writer.Write(p.Milestone, NpgsqlDbType.Integer);
        writer.Write(p.IsCompleted, NpgsqlDbType.Boolean);
        writer.Write(p.CreatedAtUtc, NpgsqlDbType.TimestampTz);
    }

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    private static async Task AnalyzeAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand("ANALYZE interactions", connection);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }
}
