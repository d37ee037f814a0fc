using Npgsql;

namespace RecSys.Engine.Data;

/// <summary>
/// <c>recsys_imports</c>: which play files went into which table, by SHA-256 of their content, so
/// importing the same content again changes nothing. Every call runs inside the import's transaction,
/// so an entry exists exactly when its rows do.
/// </summary>
internal static class ImportLedger
{
    public const string Table = "recsys_imports";

    private const string CreateSql = $"""
        CREATE TABLE IF NOT EXISTS {Table} (
            kind        text        NOT NULL,
            sha256      text        NOT NULL,
            source      text        NOT NULL,
            rows        bigint      NOT NULL,
            imported_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (kind, sha256)
        )
        """;

    /// <summary>Creates the ledger where it is missing (DDL only then: it needs CREATE on the schema).</summary>
    public static void Ensure(NpgsqlConnection connection, NpgsqlTransaction tx)
    {
        using var exists = new NpgsqlCommand($"SELECT to_regclass('{Table}') IS NOT NULL", connection, tx);
        if ((bool)exists.ExecuteScalar()!) return;
        using var create = new NpgsqlCommand(CreateSql, connection, tx);
        create.ExecuteNonQuery();
    }

    /// <summary>Forgets every import of <paramref name="kind"/> (its table is being emptied).</summary>
    public static void Forget(NpgsqlConnection connection, NpgsqlTransaction tx, string kind)
    {
        Ensure(connection, tx);
        using var forget = new NpgsqlCommand($"DELETE FROM {Table} WHERE kind = $1", connection, tx);
        forget.Parameters.AddWithValue(kind);
        forget.ExecuteNonQuery();
    }

    /// <summary>
    /// Claims <paramref name="content"/> for <paramref name="table"/>: false when the same content was
    /// imported there before. The same source with other content is refused: importing it would add the
    /// rows of the first import twice. A table emptied since (TRUNCATE, a database restored without its
    /// rows) has its entries forgotten first, so it can be filled again.
    /// </summary>
    public static bool TryClaim(NpgsqlConnection connection, NpgsqlTransaction tx, PostgresImporter.Content content, string table)
    {
        Ensure(connection, tx);
        using (var any = new NpgsqlCommand($"SELECT EXISTS (SELECT 1 FROM {table})", connection, tx))
        {
            if (!(bool)any.ExecuteScalar()!) Forget(connection, tx, content.Kind);
        }
        using (var claim = new NpgsqlCommand(
            $"INSERT INTO {Table} (kind, sha256, source, rows) VALUES ($1, $2, $3, 0) ON CONFLICT DO NOTHING", connection, tx))
        {
            claim.Parameters.AddWithValue(content.Kind);
            claim.Parameters.AddWithValue(content.Sha256);
            claim.Parameters.AddWithValue(content.Source);
            if (claim.ExecuteNonQuery() == 0) return false;
        }
        using var other = new NpgsqlCommand(
            $"SELECT rows, imported_at FROM {Table} WHERE kind = $1 AND source = $2 AND sha256 <> $3 LIMIT 1", connection, tx);
        other.Parameters.AddWithValue(content.Kind);
        other.Parameters.AddWithValue(content.Source);
        other.Parameters.AddWithValue(content.Sha256);
        using var reader = other.ExecuteReader();
        if (reader.Read())
        {
            throw new InvalidOperationException(
                $"{content.Source} was imported before with other content ({reader.GetInt64(0):N0} rows at {reader.GetDateTime(1):u}); " +
                "importing it again would add its old rows twice. Use --replace to reload the table, or import a file that holds only the new rows");
        }
        return true;
    }

    /// <summary>Records how many rows the claimed import wrote.</summary>
    public static void SetRows(NpgsqlConnection connection, NpgsqlTransaction tx, PostgresImporter.Content content, long rows)
    {
        using var update = new NpgsqlCommand($"UPDATE {Table} SET rows = $3 WHERE kind = $1 AND sha256 = $2", connection, tx);
        update.Parameters.AddWithValue(content.Kind);
        update.Parameters.AddWithValue(content.Sha256);
        update.Parameters.AddWithValue(rows);
        update.ExecuteNonQuery();
    }
}
