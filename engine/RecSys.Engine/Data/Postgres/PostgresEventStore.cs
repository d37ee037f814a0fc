using Npgsql;
using NpgsqlTypes;
using RecSys.Engine.Events;

namespace RecSys.Engine.Data;

/// <summary>
/// Play events into the mapped plays table: each call is one transaction that copies the events
/// (binary COPY) into a temporary staging table and inserts them with ON CONFLICT (event_id) DO
/// NOTHING, so a retried event is stored once, whichever request or server sent it first. Holds one
/// connection (the staging table lives in its session); after a failure it opens a new one. Synchronous:
/// a writer thread of the server calls it, never a request thread. Several stores (each its own
/// session, so their transactions overlap) may share one <see cref="EventSequence"/>. With a
/// <paramref name="feedOrigin"/> (replicas), the stored events also go to the shared
/// <see cref="PostgresPlayFeed"/> in the same transaction, and its numbers are their sequence numbers.
/// </summary>
public sealed class PostgresEventStore(string connectionString, PostgresMapping mapping, EventSequence? sequence = null, long? feedOrigin = null) : IPlayEventStore
{
    private readonly EventSequence _numbers = sequence ?? new EventSequence();

    private const string Staging = "recsys_staging_events";

    private NpgsqlConnection? _connection;
    private string? _insertSql;
    private string? _insertedNowSql;

    public string Description { get; private set; } = "postgres";

    /// <summary>
    /// Checks that events can be written (a table with a uniquely indexed event id column); throws
    /// <see cref="SchemaMappingException"/> saying what to add.
    /// </summary>
    public void Prepare()
    {
        var connection = Connection();
        var plays = MappedInteractions.Resolve(connection, mapping.Interactions);
        plays.RequireEventWrites(connection);
        if (feedOrigin is not null) PostgresPlayFeed.Ensure(connection);
        _insertSql = plays.InsertEventsSql(Staging);
        _insertedNowSql = plays.InsertedNowSql(Staging);
        Description = $"postgres({connection.Host}:{connection.Port}/{connection.Database} {plays.Table})";
    }

    public long[] Store(IReadOnlyList<PlayEvent> events)
    {
        // The first of equal ids in the call is the one stored.
        var first = new Dictionary<string, int>(events.Count, StringComparer.Ordinal);
        for (int i = 0; i < events.Count; i++) first.TryAdd(events[i].EventId, i);
        bool reused = _connection is not null;
        bool committing = false;
        try
        {
            return StoreOnce(events, first, ref committing);
        }
        catch (NpgsqlException e) when (reused && !committing
            && (e.IsTransient || e is PostgresException { SqlState: PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown }))
        {
            // The held session died while idle (the database restarted, a network cut) and the call never
            // reached its commit, so nothing of it was stored: once more on a new session.
            return StoreOnce(events, first, ref committing);
        }
    }

    private long[] StoreOnce(IReadOnlyList<PlayEvent> events, Dictionary<string, int> first, ref bool committing)
    {
        var sequences = new long[events.Count];
        try
        {
            if (_insertSql is null) Prepare();
            var connection = Connection();
            using var tx = connection.BeginTransaction();
            using (var writer = connection.BeginBinaryImport($"COPY {Staging} (event_id, user_id, track_id, milestone, is_completed, played_at) FROM STDIN (FORMAT BINARY)"))
            {
                foreach (int i in first.Values)
                {
                    var e = events[i];
                    writer.StartRow();
                    writer.Write(e.EventId, NpgsqlDbType.Text);
                    writer.Write(e.UserId, NpgsqlDbType.Bigint);
                    writer.Write(e.TrackId, NpgsqlDbType.Bigint);
                    writer.Write(e.Milestone, NpgsqlDbType.Integer);
                    writer.Write(e.IsCompleted, NpgsqlDbType.Boolean);
                    writer.Write(e.PlayedAtUtc, NpgsqlDbType.TimestampTz);
                }
                writer.Complete();
            }
            int count;
            using (var insert = new NpgsqlCommand(_insertSql, connection, tx)) count = insert.ExecuteNonQuery();
            // Usually every event is new; only a call with retries asks which were.
            HashSet<string>? inserted = null;
            if (count != first.Count)
            {
                inserted = new HashSet<string>(count, StringComparer.Ordinal);
                using var which = new NpgsqlCommand(_insertedNowSql, connection, tx);
                using var reader = which.ExecuteReader();
                while (reader.Read()) inserted.Add(reader.GetString(0));
            }
            var stored = first.Where(p => inserted is null || inserted.Contains(p.Key)).Select(p => p.Value).Order().ToArray();
            // With the feed only a qualified play is numbered: it is what changes another replica's answers.
            var numbered = feedOrigin is null ? stored : stored.Where(i => events[i].Qualifies).ToArray();
            var feedNumbers = feedOrigin is { } origin ? PostgresPlayFeed.Append(connection, tx, [.. numbered.Select(i => events[i])], origin) : null;
            committing = true;
            tx.Commit();
            foreach (int i in stored) sequences[i] = IPlayEventStore.Unnumbered;
            for (int n = 0; n < numbered.Length; n++) sequences[numbered[n]] = feedNumbers?[n] ?? _numbers.Next();
            return sequences;
        }
        catch (Exception e)
        {
            // A broken session (or one whose transaction state is unknown) is not reused; a table made
            // again meanwhile (the feed dropped) is checked and prepared for anew.
            _connection?.Dispose();
            _connection = null;
            if (e is PostgresException { SqlState: PostgresErrorCodes.UndefinedTable }) _insertSql = null;
            if (committing && e is NpgsqlException or IOException) throw new CommitOutcomeUnknownException($"the commit's outcome is unknown: {e.Message}", e);
            throw;
        }
    }

    private NpgsqlConnection Connection()
    {
        if (_connection is { State: System.Data.ConnectionState.Open } open) return open;
        _connection?.Dispose();
        var connection = new NpgsqlConnection(connectionString);
        try
        {
            connection.Open();
            // A 202 promises the events survive a database crash too: commits wait for the WAL flush here
            // even where the server's default (synchronous_commit = off) would not.
            using var create = new NpgsqlCommand($"""
                SET synchronous_commit TO on;
                CREATE TEMP TABLE IF NOT EXISTS {Staging} (event_id text, user_id bigint, track_id bigint, milestone integer,
                    is_completed boolean, played_at timestamptz) ON COMMIT DELETE ROWS
                """, connection);
            create.ExecuteNonQuery();
        }
        catch
        {
            connection.Dispose();
            throw;
        }
        return _connection = connection;
    }

    public void Dispose()
    {
        _connection?.Dispose();
        _connection = null;
    }
}
