using Npgsql;

namespace RecSys.Engine.Data;

/// <summary>
/// Reads track metadata (titles, artist names, covers) from the mapped tracks and artists tables
/// (<see cref="PostgresMapping"/>), and tells whether they changed since a read.
/// </summary>
public sealed class PostgresTrackSource(string connectionString, PostgresMapping? mapping = null)
{
    private readonly PostgresMapping _mapping = mapping ?? new PostgresMapping();

    /// <summary>Reads the track and artist metadata into memory (none when no tracks table is mapped).</summary>
    public Task<TrackRows> ReadTracksAsync(CancellationToken cancellationToken = default) =>
        Task.Run(() => ReadTracks(cancellationToken), cancellationToken);

    /// <summary>
    /// Metadata rows and where they came from; rows whose id was NULL are counted, not kept.
    /// <see cref="ChangeToken"/> was taken before the read (see <see cref="ReadTracksChangeTokenAsync"/>).
    /// </summary>
    public sealed record TrackRows(List<TrackInfo> Tracks, string Source, long SkippedRows, string? ChangeToken = null);

    /// <summary>The metadata tables' change token now (<see cref="MappedTracks.ChangeToken"/>); null when it cannot be told.</summary>
    public Task<string?> ReadTracksChangeTokenAsync(CancellationToken cancellationToken = default) => Task.Run(() =>
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        return MappedTracks.Resolve(connection, _mapping.Tracks, _mapping.Artists).ChangeToken(connection);
    }, cancellationToken);

    private TrackRows ReadTracks(CancellationToken cancellationToken)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        var mapped = MappedTracks.Resolve(connection, _mapping.Tracks, _mapping.Artists);
        var result = new List<TrackInfo>();
        long skipped = 0;
        if (mapped.SelectSql is null) return new TrackRows(result, mapped.Description, 0);
        string? token = mapped.ChangeToken(connection);
        using var cmd = new NpgsqlCommand(mapped.SelectSql, connection);
        using var reader = cmd.ExecuteReader();
        using var registration = cancellationToken.Register(cmd.Cancel);
        while (reader.Read())
        {
            if (reader.IsDBNull(0))
            {
                skipped++;
                continue;
            }
            result.Add(new TrackInfo(
                reader.GetInt64(0),
                reader.IsDBNull(1) ? null : reader.GetString(1),
                reader.IsDBNull(2) ? null : reader.GetInt64(2),
                reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetInt64(4),
                reader.IsDBNull(5) ? null : reader.GetInt32(5),
                reader.IsDBNull(6) ? null : reader.GetString(6),
                reader.IsDBNull(7) ? null : reader.GetString(7)));
        }
        return new TrackRows(result, $"postgres {mapped.Description}", skipped, token);
    }
}
