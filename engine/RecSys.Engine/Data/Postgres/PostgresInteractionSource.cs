using Npgsql;
using NpgsqlTypes;

namespace RecSys.Engine.Data;

/// <summary>
/// Reads positive signals from the mapped plays table (<see cref="PostgresMapping"/>): a play qualifies
/// when <c>milestone &gt;= 75 OR is_completed</c>; qualified plays are counted (or their weights summed)
/// per (user, track) in SQL and streamed back with binary COPY, so the client never sees single plays.
/// </summary>
public sealed class PostgresInteractionSource(string connectionString, PostgresMapping? mapping = null)
{
    private readonly PostgresMapping _mapping = mapping ?? new PostgresMapping();

    /// <summary>Rows of a NULL (or fractional numeric) id are reported, at most this many as examples.</summary>
    private const int MaxExamples = 5;

    /// <summary>
    /// Reads every qualified (user, track) count on a thread-pool thread with synchronous I/O. A bulk
    /// read should not run as the continuation of an awaited socket read: in a server that completes
    /// socket reads inline (recsys serve does), that continuation would hold a socket thread, and
    /// every connection it serves, for the whole read.
    /// </summary>
    public Task<InteractionData> ReadAsync(CancellationToken cancellationToken = default) =>
        Task.Run(() => Read(cancellationToken), cancellationToken);

    /// <summary>
    /// Checks the plays mapping against the database (table, columns, types) and returns it resolved;
    /// throws <see cref="SchemaMappingException"/> naming what does not fit.
    /// </summary>
    public Task<MappedInteractions> ResolveAsync(CancellationToken cancellationToken = default) => Task.Run(() =>
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        return MappedInteractions.Resolve(connection, _mapping.Interactions);
    }, cancellationToken);

    private InteractionData Read(CancellationToken cancellationToken)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        cancellationToken.ThrowIfCancellationRequested();
        var plays = MappedInteractions.Resolve(connection, _mapping.Interactions);
        var table = new InteractionTable((int)Math.Clamp(EstimateRows(connection, plays.Oid), 1024, 1 << 26));
        long skipped = 0;
        var examples = new List<string>();
        // Synchronous reads also because an awaited call per field costs more than the field itself
        // (a third of the time at a million rows); the rows arrive in large buffered chunks anyway.
        using (var reader = connection.BeginBinaryExport($"COPY ({plays.QualifiedCountsSql}) TO STDOUT (FORMAT BINARY)"))
        using (cancellationToken.Register(reader.Cancel))
        {
            while (reader.StartRow() != -1)
            {
                long? user = ReadId(reader);
                long? track = ReadId(reader);
                float count = reader.Read<float>(NpgsqlDbType.Real);
                if (user is { } u && track is { } t)
                {
                    table.Add(u, t, count);
                    continue;
                }
                // Counted per (user, track) pair, as the rows arrive grouped; the examples give the plays.
                skipped++;
                if (examples.Count < MaxExamples)
                {
                    examples.Add($"{plays.UserColumn} = {user?.ToString() ?? "NULL"}, {plays.TrackColumn} = {track?.ToString() ?? "NULL"} " +
                        $"({count} qualified plays): a NULL or fractional id");
                }
            }
        }
        return new InteractionData(table, $"postgres({connection.Host}:{connection.Port}/{connection.Database} {plays.Table})", skipped, examples);
    }

    private static long? ReadId(NpgsqlBinaryExporter reader)
    {
        if (reader.IsNull)
        {
            reader.Skip();
            return null;
        }
        return reader.Read<long>(NpgsqlDbType.Bigint);
    }

    /// <summary>
    /// The planner's row estimate, to size the table once. A view, or a table autovacuum has not
    /// analysed yet, has none (reltuples -1 or 0): the table then grows as rows arrive.
    /// </summary>
    private static long EstimateRows(NpgsqlConnection connection, uint table)
    {
        using var cmd = new NpgsqlCommand("SELECT reltuples::bigint FROM pg_class WHERE oid = $1", connection);
        cmd.Parameters.AddWithValue(NpgsqlDbType.Oid, table);
        return cmd.ExecuteScalar() is long rows && rows > 0 ? rows : 1024;
    }
}
