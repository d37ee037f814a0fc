using Npgsql;

namespace RecSys.Engine.Data;

/// <summary>
/// The tables experiments keep in the database: every version of every definition, and the exposures
/// (what each experiment's users were shown). Created by <c>db init</c> and by a server with a database.
/// </summary>
public static class PostgresExperimentTables
{
    public const string Definitions = "recsys_experiments";
    public const string Exposures = "recsys_exposures";

    public const string CreateSql = $"""
        CREATE TABLE IF NOT EXISTS {Definitions} (
            id         text        NOT NULL,
            version    integer     NOT NULL,
            definition jsonb       NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (id, version)
        );
        CREATE TABLE IF NOT EXISTS {Exposures} (
            recommendation_id uuid        PRIMARY KEY,
            experiment        text        NOT NULL,
            arm               text        NOT NULL,
            user_id           bigint      NOT NULL,
            shown_at          timestamptz NOT NULL,
            track_ids         bigint[]    NOT NULL,
            durations_ms      integer[]   NOT NULL
        );
        CREATE INDEX IF NOT EXISTS {Exposures}_experiment_idx ON {Exposures} (experiment);
        """;

    private const string CompleteSql = $"SELECT to_regclass('{Definitions}') IS NOT NULL AND to_regclass('{Exposures}_experiment_idx') IS NOT NULL";

    /// <summary>
    /// <see cref="Create"/> without blocking (for a connection used asynchronously before: a synchronous
    /// call on its socket would wait on the socket threads an await may be running on).
    /// </summary>
    public static async Task CreateAsync(NpgsqlConnection connection, CancellationToken cancellationToken = default)
    {
        await using (var complete = new NpgsqlCommand(CompleteSql, connection))
        {
            if ((bool)(await complete.ExecuteScalarAsync(cancellationToken))!) return;
        }
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockCmd = new NpgsqlCommand(LockSql, connection, tx)) await lockCmd.ExecuteNonQueryAsync(cancellationToken);
        await using (var cmd = new NpgsqlCommand(CreateSql, connection, tx)) await cmd.ExecuteNonQueryAsync(cancellationToken);
        await tx.CommitAsync(cancellationToken);
    }

    private const string LockSql = "SELECT pg_advisory_xact_lock(7265637380)";

    /// <summary>Creates what is missing (DDL only then: it needs ownership and takes locks).</summary>
    public static void Create(NpgsqlConnection connection)
    {
        using (var complete = new NpgsqlCommand(CompleteSql, connection))
        {
            if ((bool)complete.ExecuteScalar()!) return;
        }
        using var tx = connection.BeginTransaction();
        using (var lockCmd = new NpgsqlCommand(LockSql, connection, tx)) lockCmd.ExecuteNonQuery();
        using (var cmd = new NpgsqlCommand(CreateSql, connection, tx)) cmd.ExecuteNonQuery();
        tx.Commit();
    }
}
