using Npgsql;

namespace RecSys.Engine.Data;

/// <summary>
/// The original design's tables, plus on interactions a nullable <c>weight</c> that keeps an imported
/// file's weights and a uniquely indexed <c>event_id</c> that keeps a play received as an event once
/// (docs/database.md). Creating them is idempotent, and adds those columns to an interactions table an
/// earlier version created.
/// </summary>
public static class PostgresSchema
{
    public const string CreateSql = """
        CREATE TABLE IF NOT EXISTS artists (
            artist_id bigint PRIMARY KEY,
            name      text   NOT NULL
        );
        CREATE TABLE IF NOT EXISTS tracks (
            track_id    bigint PRIMARY KEY,
            title       text,
            artist_id   bigint,
            album_id    bigint,
            duration_ms integer,
            preview_url text,
            cover_url   text
        );
        CREATE TABLE IF NOT EXISTS interactions (
            user_id      bigint      NOT NULL,
            track_id     bigint      NOT NULL,
            milestone    integer,
            is_completed boolean     NOT NULL DEFAULT false,
            created_at   timestamptz NOT NULL DEFAULT now(),
            weight       real,
            event_id     text
        );
        ALTER TABLE interactions ADD COLUMN IF NOT EXISTS weight real;
        ALTER TABLE interactions ADD COLUMN IF NOT EXISTS event_id text;
        CREATE INDEX IF NOT EXISTS interactions_user_id_idx ON interactions (user_id);
        CREATE UNIQUE INDEX IF NOT EXISTS interactions_event_id_key ON interactions (event_id);
        """;

    /// <summary>Whether the three tables, the weight and event id columns and the indexes all exist (then there is nothing to create).</summary>
    private const string CompleteSql = """
        SELECT to_regclass('artists') IS NOT NULL AND to_regclass('tracks') IS NOT NULL
           AND to_regclass('interactions_user_id_idx') IS NOT NULL AND to_regclass('interactions_event_id_key') IS NOT NULL
           AND EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('interactions') AND attname = 'weight' AND NOT attisdropped)
        """;

    public static async Task CreateAsync(NpgsqlConnection connection, CancellationToken cancellationToken = default)
    {
        // DDL only when something is missing: even with IF NOT EXISTS, ALTER TABLE needs the table's
        // owner and an ACCESS EXCLUSIVE lock, which would queue behind a training's read and make every
        // fold-in lookup behind it time out; an import role need not own the tables it fills.
        await using (var complete = new NpgsqlCommand(CompleteSql, connection))
        {
            if ((bool)(await complete.ExecuteScalarAsync(cancellationToken))!) return;
        }
        // Two sessions running "db init" at once could race on CREATE ... IF NOT EXISTS; a
        // transaction-scoped advisory lock serialises them.
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockCmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock(7265637379)", connection, tx))
        {
            await lockCmd.ExecuteNonQueryAsync(cancellationToken);
        }
        await using (var cmd = new NpgsqlCommand(CreateSql, connection, tx))
        {
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);
    }
}
