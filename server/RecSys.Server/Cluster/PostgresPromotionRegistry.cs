using Npgsql;
using NpgsqlTypes;
using RecSys.Server.Hosting;

namespace RecSys.Server.Cluster;

/// <summary>
/// The registry replicas share: one row holds the current version and the promotion history. A change
/// locks the row (SELECT … FOR UPDATE), so two nodes promoting at once queue instead of overwriting each
/// other, writes the row and a line of <c>recsys_model_changes</c>, and notifies
/// <see cref="ClusterSchema.Channel"/> in the same transaction: replicas hear of it only once it is
/// committed. The database being unreachable is an <see cref="IOException"/>, which the store's callers
/// already treat as "cannot be read right now" (the serving model stays).
/// </summary>
public sealed class PostgresPromotionRegistry(NpgsqlDataSource db, string node) : IPromotionRegistry
{
    public string Kind => "postgres";

    public bool Shared => true;

    public string Node => node;

    /// <summary>
    /// Creates the tables and, when the registry has no row yet, starts it from <paramref name="files"/>
    /// (a node's own store before it joined: its current version carries over instead of vanishing).
    /// </summary>
    public void Initialize(PromotionState files) => Run(connection =>
    {
        ClusterSchema.Ensure(connection);
        using var seed = new NpgsqlCommand(
            "INSERT INTO recsys_model_registry (id, current_version, history, changed_by) VALUES (1, $1, $2, $3) ON CONFLICT (id) DO NOTHING", connection);
        seed.Parameters.Add(new NpgsqlParameter { Value = (object?)files.Current ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        seed.Parameters.Add(new NpgsqlParameter { Value = files.History.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        seed.Parameters.Add(new NpgsqlParameter { Value = node });
        return seed.ExecuteNonQuery();
    });

    public PromotionState Read() => Run(connection => ReadRow(connection, null, forUpdate: false));

    public PromotionState Change(Func<PromotionState, PromotionState?> change, string action) => Run(connection =>
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
    });

    public void Added(string version, string manifestJson) => Run(connection =>
    {
        using var insert = new NpgsqlCommand(
            "INSERT INTO recsys_model_versions (version, added_by, manifest) VALUES ($1, $2, $3::jsonb) ON CONFLICT (version) DO NOTHING", connection);
        insert.Parameters.Add(new NpgsqlParameter { Value = version });
        insert.Parameters.Add(new NpgsqlParameter { Value = node });
        insert.Parameters.Add(new NpgsqlParameter { Value = manifestJson });
        return insert.ExecuteNonQuery();
    });

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
