using Npgsql;

namespace RecSys.Server.Hosting;

/// <summary>Recent qualified plays of a user the model does not know, for fold-in.</summary>
public interface IUserPlays
{
    Task<IReadOnlyList<(long TrackId, float Plays)>> GetAsync(long userId, CancellationToken ct);
}

/// <summary>Without a database there is nowhere to find an unknown user's plays.</summary>
public sealed class NoUserPlays : IUserPlays
{
    public Task<IReadOnlyList<(long TrackId, float Plays)>> GetAsync(long userId, CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<(long, float)>>([]);
}

/// <summary>
/// Qualified plays from the interactions table (same rule as training), with a one-second timeout: a slow
/// or failing database gives the popularity answer rather than a slow or failed request.
/// </summary>
public sealed class PostgresUserPlays(NpgsqlDataSource db, ILogger<PostgresUserPlays> log) : IUserPlays
{
    public async Task<IReadOnlyList<(long TrackId, float Plays)>> GetAsync(long userId, CancellationToken ct)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(1));
            await using var cmd = db.CreateCommand(
                "SELECT track_id, count(*)::real FROM interactions WHERE user_id = $1 AND (milestone >= 75 OR is_completed) GROUP BY track_id");
            cmd.Parameters.AddWithValue(userId);
            await using var reader = await cmd.ExecuteReaderAsync(timeout.Token);
            var plays = new List<(long, float)>();
            while (await reader.ReadAsync(timeout.Token)) plays.Add((reader.GetInt64(0), reader.GetFloat(1)));
            return plays;
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            log.LogWarning("could not read plays of user {UserId}: {Message}", userId, e.Message);
            return [];
        }
    }
}
