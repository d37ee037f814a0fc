using Npgsql;
using NpgsqlTypes;
using RecSys.Engine.Events;

namespace RecSys.Engine.Data;

/// <summary>
/// Every qualified play stored by any replica, numbered in commit order, so replicas can apply each
/// other's plays by tailing it and a model can say which plays it was trained on in numbers every
/// replica shares. An event's row is written in the transaction that stores it, under a transaction
/// lock taken last: numbers are handed out and committed in the same order, so every number at or
/// below the largest one visible is committed (a tailer never skips one still in flight). A replica
/// wakes the others with <see cref="Channel"/> in the same transaction.
/// </summary>
public static class PostgresPlayFeed
{
    /// <summary>Channel each commit of events notifies, with the newest number as payload.</summary>
    public const string Channel = "recsys_plays";

    /// <summary>pg_advisory_xact_lock key that orders the feed's commits ("recsys-f" as bytes).</summary>
    private const long OrderLockKey = 0x7265637379732D66;

    private const string Schema = """
        CREATE SEQUENCE IF NOT EXISTS recsys_play_feed_numbers;
        -- A session's cached numbers would not follow the order lock: one number at a time, whatever was set.
        ALTER SEQUENCE recsys_play_feed_numbers CACHE 1;
        CREATE TABLE IF NOT EXISTS recsys_play_feed (
            id bigint PRIMARY KEY,
            user_id bigint NOT NULL,
            track_id bigint NOT NULL,
            origin bigint NOT NULL
        );
        """;

    /// <summary>One stored play as the feed holds it.</summary>
    public readonly record struct Row(long Id, long UserId, long TrackId, long Origin);

    /// <summary>Creates the sequence and the table when missing (replicas may race: see <see cref="IdempotentDdl"/>).</summary>
    public static void Ensure(NpgsqlConnection connection) => IdempotentDdl.Run(connection, Schema);

    /// <summary>
    /// The feed's identity (its table's OID: a feed dropped and made again numbers from 1 anew, and a
    /// model's numbers from the old one then match nothing) and its newest committed number (0: none
    /// yet; every play numbered at or below it is committed and visible from now on).
    /// </summary>
    public static (string Epoch, long Newest) Mark(NpgsqlConnection connection)
    {
        using var command = new NpgsqlCommand("SELECT 'recsys_play_feed'::regclass::oid::bigint, coalesce(max(id), 0) FROM recsys_play_feed", connection);
        using var reader = command.ExecuteReader();
        reader.Read();
        return ($"postgres-feed-{reader.GetInt64(0)}", reader.GetInt64(1));
    }

    /// <summary>
    /// Appends the plays (stored in <paramref name="transaction"/>, not yet committed) and announces
    /// them; returns their numbers, in order. The order lock is held from here to the commit.
    /// </summary>
    public static long[] Append(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<PlayEvent> events, long origin)
    {
        var numbers = new long[events.Count];
        if (events.Count == 0) return numbers;
        long first;
        // One round trip while the lock is held: take it, reserve the block, announce its last number.
        using (var reserve = new NpgsqlCommand(
            "SELECT pg_advisory_xact_lock(@key); " +
            "WITH r AS (SELECT setval('recsys_play_feed_numbers', nextval('recsys_play_feed_numbers') + @n - 1) AS last) " +
            "SELECT last - @n + 1, pg_notify(@channel, last::text) FROM r",
            connection, transaction))
        {
            reserve.Parameters.AddWithValue("key", OrderLockKey);
            reserve.Parameters.AddWithValue("n", (long)events.Count);
            reserve.Parameters.AddWithValue("channel", Channel);
            using var reader = reserve.ExecuteReader();
            reader.NextResult();
            reader.Read();
            first = reader.GetInt64(0);
        }
        using (var writer = connection.BeginBinaryImport("COPY recsys_play_feed (id, user_id, track_id, origin) FROM STDIN (FORMAT BINARY)"))
        {
            for (int i = 0; i < events.Count; i++)
            {
                numbers[i] = first + i;
                var e = events[i];
                writer.StartRow();
                writer.Write(numbers[i], NpgsqlDbType.Bigint);
                writer.Write(e.UserId, NpgsqlDbType.Bigint);
                writer.Write(e.TrackId, NpgsqlDbType.Bigint);
                writer.Write(origin, NpgsqlDbType.Bigint);
            }
            writer.Complete();
        }
        return numbers;
    }

    /// <summary>Up to <paramref name="limit"/> rows numbered above <paramref name="after"/>, in order.</summary>
    public static List<Row> Read(NpgsqlConnection connection, long after, int limit) => Query(connection,
        "SELECT id, user_id, track_id, origin FROM recsys_play_feed WHERE id > @after ORDER BY id LIMIT @limit",
        ("after", after), ("limit", limit));

    /// <summary>
    /// What a replica applies: up to <paramref name="limit"/> plays stored by other processes
    /// than <paramref name="origin"/>, numbered above <paramref name="after"/> and at most
    /// <paramref name="through"/> (read from <see cref="Mark"/> first: when fewer than the limit come
    /// back, everything up to it was seen, the process's own rows included, without reading those).
    /// </summary>
    public static List<Row> ReadOthers(NpgsqlConnection connection, long after, long through, long origin, int limit) => Query(connection,
        "SELECT id, user_id, track_id, origin FROM recsys_play_feed " +
        "WHERE id > @after AND id <= @through AND origin <> @origin ORDER BY id LIMIT @limit",
        ("after", after), ("through", through), ("origin", origin), ("limit", limit));

    private static List<Row> Query(NpgsqlConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        using var reader = command.ExecuteReader();
        var rows = new List<Row>();
        while (reader.Read()) rows.Add(new Row(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3)));
        return rows;
    }

    /// <summary>
    /// Forgets rows numbered at or below <paramref name="through"/> (no model that may still be served
    /// lacks them); the newest row always stays, so the numbering's high mark survives.
    /// </summary>
    public static long Prune(NpgsqlConnection connection, long through)
    {
        using var command = new NpgsqlCommand(
            "DELETE FROM recsys_play_feed WHERE id <= @through AND id < (SELECT max(id) FROM recsys_play_feed)", connection);
        command.Parameters.AddWithValue("through", through);
        return command.ExecuteNonQuery();
    }
}
