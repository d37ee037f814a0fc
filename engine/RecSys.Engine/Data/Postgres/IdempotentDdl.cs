using Npgsql;

namespace RecSys.Engine.Data;

/// <summary>
/// Runs <c>CREATE … IF NOT EXISTS</c> statements that several processes may run at once. Two sessions
/// creating the same object together can still collide in the catalog (a unique violation on pg_type):
/// the loser finds it made and tries again.
/// </summary>
public static class IdempotentDdl
{
    public static void Run(NpgsqlConnection connection, string sql)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                using var command = new NpgsqlCommand(sql, connection);
                command.ExecuteNonQuery();
                return;
            }
            catch (PostgresException e) when (attempt < 3 && IsCatalogRace(e))
            {
                Thread.Sleep(50 * (attempt + 1));
            }
        }
    }

    private static bool IsCatalogRace(PostgresException e) =>
        e.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateTable or PostgresErrorCodes.DuplicateObject;
}
