using Npgsql;
using NpgsqlTypes;
using RecSys.Engine.Data;

namespace RecSys.Engine.Experiments;

/// <summary>Plays from the mapped interactions table, for attribution: whoever wrote them (events or the client itself).</summary>
public static class PostgresPlays
{
    /// <summary>The plays in [<paramref name="from"/>, <paramref name="to"/>) from the mapped plays table, for attribution.</summary>
    public static IEnumerable<Events.PlayEvent> Between(NpgsqlDataSource database, PostgresMapping mapping, DateTime from, DateTime to)
    {
        using var connection = database.OpenConnection();
        var plays = MappedInteractions.Resolve(connection, mapping.Interactions);
        using var cmd = new NpgsqlCommand(plays.PlaysBetweenSql, connection);
        cmd.Parameters.Add(new NpgsqlParameter { Value = from, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new NpgsqlParameter { Value = to, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            // A row whose id is NULL or not whole cannot be anyone's play.
            if (reader.IsDBNull(0) || reader.IsDBNull(1) || reader.IsDBNull(4)) continue;
            int milestone = Math.Clamp(reader.GetInt32(2), 0, 100);
            yield return new Events.PlayEvent(reader.GetString(5), reader.GetInt64(0), reader.GetInt64(1), milestone, reader.GetBoolean(3), reader.GetFieldValue<DateTime>(4));
        }
    }
}
