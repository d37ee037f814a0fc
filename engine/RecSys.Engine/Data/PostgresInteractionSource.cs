using Npgsql;
using NpgsqlTypes;

namespace RecSys.Engine.Data;

/// <summary>
/// Reads positive signals from the <c>interactions</c> table: a play qualifies when
/// <c>milestone &gt;= 75 OR is_completed</c>; qualified plays are counted per (user, track) in SQL
/// and streamed back with binary COPY, so the client never sees individual plays.
/// </summary>
public sealed class PostgresInteractionSource(string connectionString)
{
    public const string QualifiedCountsSql = """
        SELECT user_id, track_id, count(*)::real AS plays
        FROM interactions
        WHERE milestone >= 75 OR is_completed
        GROUP BY user_id, track_id
        """;

    /// <summary>
    /// Reads every qualified (user, track) count on a thread-pool thread with synchronous I/O. A bulk
    /// read should not run as the continuation of an awaited socket read: in a server that completes
    /// socket reads inline (recsys serve does), that continuation would hold a socket thread, and
    /// every connection it serves, for the whole read.
    /// </summary>
    public Task<InteractionData> ReadAsync(CancellationToken cancellationToken = default) =>
        Task.Run(() => Read(cancellationToken), cancellationToken);

    private InteractionData Read(CancellationToken cancellationToken)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        cancellationToken.ThrowIfCancellationRequested();
        long estimate = EstimateRows(connection);
        var table = new InteractionTable((int)Math.Clamp(estimate, 1024, 1 << 26));
        // Synchronous reads also because an awaited call per field costs more than the field itself
        // (a third of the time at a million rows); the rows arrive in large buffered chunks anyway.
        using var reader = connection.BeginBinaryExport($"COPY ({QualifiedCountsSql}) TO STDOUT (FORMAT BINARY)");
        using var registration = cancellationToken.Register(reader.Cancel);
        while (reader.StartRow() != -1)
        {
            long user = reader.Read<long>(NpgsqlDbType.Bigint);
            long track = reader.Read<long>(NpgsqlDbType.Bigint);
            float plays = reader.Read<float>(NpgsqlDbType.Real);
            table.Add(user, track, plays);
        }
        return new InteractionData(table, $"postgres({connection.Host}:{connection.Port}/{connection.Database})");
    }

    /// <summary>Reads the track and artist metadata into memory.</summary>
    public async Task<List<TrackInfo>> ReadTracksAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        const string sql = """
            SELECT t.track_id, t.title, t.artist_id, a.name, t.album_id, t.duration_ms, t.preview_url, t.cover_url
            FROM tracks t LEFT JOIN artists a ON a.artist_id = t.artist_id
            """;
        await using var cmd = new NpgsqlCommand(sql, connection);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        var result = new List<TrackInfo>();
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(new TrackInfo(
                reader.GetInt64(0),
                reader.IsDBNull(1) ? null : reader.GetString(1),
                reader.IsDBNull(2) ? null : reader.GetInt64(2),
                reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetInt64(4),
                reader.IsDBNull(5) ? null : reader.GetInt32(5),
                reader.IsDBNull(6) ? null : reader.GetString(6),
                reader.IsDBNull(7) ? null : reader.GetString(7)));
        }
        return result;
    }

    private static long EstimateRows(NpgsqlConnection connection)
    {
        using var cmd = new NpgsqlCommand(
            "SELECT COALESCE((SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass('interactions')), -1)", connection);
        object? value = cmd.ExecuteScalar();
        long rows = value is long l ? l : -1;
        if (rows < 0)
        {
            throw new InvalidOperationException(
                "The database has no 'interactions' table. Run './recsys db init' (and 'db import') first.");
        }
        return rows;
    }
}
