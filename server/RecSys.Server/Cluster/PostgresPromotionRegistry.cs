using Npgsql;
using NpgsqlTypes;
using RecSys.Server.Hosting;

namespace RecSys.Server.Cluster;

/// <summary>
/// The registry replicas share: one row holds the current version and the promotion history. A change
/// locks the row (SELECT … FOR UPDATE), so two nodes promoting at once queue instead of overwriting each
/// other, writes the row and a line of <c>recsys_model_changes</c>, and notifies
/// <see cref="ClusterSchema.Channel"/> in the same transaction: replicas hear of it only once it is
/// committed. Every committed change is also written to the store's own files (<paramref name="mirror"/>),
/// which a read falls back to while the database cannot be reached: a node restarted during an outage
/// serves the last promoted version instead of nothing, and an older build finds its pointer. A change
/// while the database is unreachable is an <see cref="IOException"/>, which the store's callers already
/// report as "cannot be written right now" (the serving model stays).
/// </summary>
public sealed class PostgresPromotionRegistry(NpgsqlDataSource db, string node, FilePromotionRegistry mirror) : IPromotionRegistry
{
    private volatile bool _initialized;
    private volatile string? _problem;

    public string Kind => "postgres";

    public bool Shared => true;

    public string Node => node;

    /// <summary>Why the last read came from the files instead of the database (null when it did not).</summary>
    public string? Problem => _problem;

    /// <summary>
    /// Creates the tables and, when the registry has no row yet, starts it from the mirror files (a
    /// node's own store before it joined: its current version carries over instead of vanishing). Done
    /// once; every read and change tries again until it has been, so a database that was down at
    /// start-up is set up when it comes back.
    /// </summary>
    public void EnsureInitialized()
    {
        if (_initialized) return;
        var files = mirror.Read();
        Run(connection => Seed(connection, files));
        _initialized = true;
    }

    private int Seed(NpgsqlConnection connection, PromotionState files)
    {
        ClusterSchema.Ensure(connection);
        using var seed = new NpgsqlCommand(
            "INSERT INTO recsys_model_registry (id, current_version, history, changed_by) VALUES (1, $1, $2, $3) ON CONFLICT (id) DO NOTHING", connection);
        seed.Parameters.Add(new NpgsqlParameter { Value = (object?)files.Current ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        seed.Parameters.Add(new NpgsqlParameter { Value = files.History.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        seed.Parameters.Add(new NpgsqlParameter { Value = node });
        return seed.ExecuteNonQuery();
    }

    public PromotionState Read()
    {
        try
        {
            EnsureInitialized();
            var state = Run(connection => ReadRow(connection, null, forUpdate: false));
            _problem = null;
            return state;
        }
        catch (IOException e) when (e.InnerException is NpgsqlException)
        {
            _problem = $"{e.Message}; serving from the pointer last written to the store's files";
            return mirror.Read();
        }
    }

    public PromotionState Change(Func<PromotionState, PromotionState?> change, string action)
    {
        EnsureInitialized();
        var state = Run(connection => Write(connection, change, action));
        try
        {
            // After the commit, best effort: the files are the fallback, never the authority.
            mirror.Change(_ => state, action);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _problem = $"the store's pointer files could not be updated: {e.Message}";
        }
        return state;
    }

    private PromotionState Write(NpgsqlConnection connection, Func<PromotionState, PromotionState?> change, string action)
    {
        using var transaction = connection.BeginTransaction();
        using (var ensure = new NpgsqlCommand("INSERT INTO recsys_model_registry (id) VALUES (1) ON CONFLICT (id) DO NOTHING", connection, transaction))
        {
            ensure.ExecuteNonQuery();
        }
        var before = ReadRow(connection, transaction, forUpdate: true);
        if (change(before) is not { } after)
        {
            transaction.Rollback();
            return before;
        }
        NpgsqlParameter Current() => new() { Value = (object?)after.Current ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };
        using (var write = new NpgsqlBatch(connection, transaction))
        {
            var update = new NpgsqlBatchCommand("UPDATE recsys_model_registry SET current_version = $1, history = $2, changed_at = now(), changed_by = $3 WHERE id = 1");
            update.Parameters.Add(Current());
            update.Parameters.Add(new NpgsqlParameter { Value = after.History.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            update.Parameters.Add(new NpgsqlParameter { Value = node });
            var record = new NpgsqlBatchCommand("INSERT INTO recsys_model_changes (node, action, version) VALUES ($1, $2, $3)");
            record.Parameters.Add(new NpgsqlParameter { Value = node });
            record.Parameters.Add(new NpgsqlParameter { Value = action });
            record.Parameters.Add(Current());
            // Delivered at commit, and only if it commits.
            var notify = new NpgsqlBatchCommand("SELECT pg_notify($1, coalesce($2, ''))");
            notify.Parameters.Add(new NpgsqlParameter { Value = ClusterSchema.Channel });
            notify.Parameters.Add(Current());
            write.BatchCommands.Add(update);
            write.BatchCommands.Add(record);
            write.BatchCommands.Add(notify);
            write.ExecuteNonQuery();
        }
        transaction.Commit();
        return after;
    }

    public void Added(string version, string manifestJson)
    {
        EnsureInitialized();
        Run(connection => Insert(connection, version, manifestJson));
    }

    private int Insert(NpgsqlConnection connection, string version, string manifestJson)
    {
        using var insert = new NpgsqlCommand(
            "INSERT INTO recsys_model_versions (version, added_by, manifest) VALUES ($1, $2, $3::jsonb) ON CONFLICT (version) DO NOTHING", connection);
        insert.Parameters.Add(new NpgsqlParameter { Value = version });
        insert.Parameters.Add(new NpgsqlParameter { Value = node });
        insert.Parameters.Add(new NpgsqlParameter { Value = manifestJson });
        return insert.ExecuteNonQuery();
    }

    private static PromotionState ReadRow(NpgsqlConnection connection, NpgsqlTransaction? transaction, bool forUpdate)
    {
        using var select = new NpgsqlCommand(
            $"SELECT current_version, history FROM recsys_model_registry WHERE id = 1{(forUpdate ? " FOR UPDATE" : "")}", connection, transaction);
        using var reader = select.ExecuteReader();
        if (!reader.Read()) return new PromotionState(null, []);
        return new PromotionState(reader.IsDBNull(0) ? null : reader.GetString(0), reader.GetFieldValue<string[]>(1));
    }

    private T Run<T>(Func<NpgsqlConnection, T> work)
    {
        try
        {
            using var connection = db.OpenConnection();
            return work(connection);
        }
        catch (NpgsqlException e)
        {
            throw new IOException($"the model registry in PostgreSQL cannot be used: {e.Message}", e);
        }
    }
}
