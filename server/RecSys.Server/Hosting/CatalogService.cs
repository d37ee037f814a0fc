using System.Diagnostics;
using Npgsql;
using RecSys.Engine.Data;
using RecSys.Server.Configuration;
using RecSys.Server.Metadata;

namespace RecSys.Server.Hosting;

/// <summary>The catalog's state for /model: where it came from, how many rows, when, and the last error.</summary>
/// <param name="CheckedAtUtc">When the source was last read or found unchanged.</param>
public sealed record CatalogStatus(string Source, int Tracks, DateTime? LoadedAtUtc, double? LoadSeconds, string? LastError, DateTime? LastErrorAtUtc, DateTime? CheckedAtUtc = null);

/// <summary>
/// Keeps the track metadata live: loads it from the configured source at start-up, again before every
/// promotion and every /admin/reload, and on an interval (<see cref="ServerOptions.CatalogRefreshSeconds"/>,
/// skipped while the source's change token says nothing changed), always in the background,
/// publishing a complete new catalog at once. A failed reload keeps the catalog that serves and is
/// shown at /model and /metrics.
/// </summary>
public sealed class CatalogService(ServerOptions options, ModelHost host, TimeProvider time, ILogger<CatalogService> log) : BackgroundService
{
    private readonly SemaphoreSlim _loading = new(1, 1);
    private volatile CatalogStatus _status = new(TrackCatalog.Empty.Source, 0, null, null, null, null);

    public CatalogStatus Status => _status;

    private static readonly TimeSpan DegradedRetry = TimeSpan.FromSeconds(10);

    /// <summary>Whether the last failed load failed on the connection (the database down or slow) rather than on the configuration or the data.</summary>
    public bool LastFailureWasTransient { get; private set; }

    /// <summary>Why answers lack metadata that is configured (it has never been read), or null.</summary>
    public string? Degraded => Live && _status.LoadedAtUtc is null
        ? $"track metadata could not be read ({_status.LastError ?? "not loaded yet"}); answers carry null metadata until a reload reads it"
        : null;

    /// <summary>Whether the source can change while the server runs (the demo catalog cannot).</summary>
    private bool Live => !string.IsNullOrWhiteSpace(options.Db) || options.MetadataFile is { Length: > 0 };

    /// <summary>Reads the configured source into a new catalog (no state changes; throws on failure).</summary>
    private async Task<TrackCatalog> ReadAsync(CancellationToken ct)
    {
        if (!string.IsNullOrWhiteSpace(options.Db)) return await TrackCatalog.FromPostgresAsync(options.Db, options.DbMapping, ct);
        if (options.MetadataFile is { Length: > 0 } file) return await Task.Run(() => TrackCatalog.FromArtistsFile(file), ct);
        if (options.InputFile is { Length: > 0 }) return TrackCatalog.Empty;
        return TrackCatalog.FromDemo(DemoCatalog.Generate(options.Demo));
    }

    /// <summary>The source's change token now (<see cref="TrackCatalog.ChangeToken"/>); null when it cannot be told.</summary>
    private async Task<string?> SourceTokenAsync(CancellationToken ct)
    {
        if (!string.IsNullOrWhiteSpace(options.Db)) return await new PostgresTrackSource(options.Db, options.DbMapping).ReadTracksChangeTokenAsync(ct);
        if (options.MetadataFile is { Length: > 0 } file) return TrackCatalog.FileChangeToken(file);
        return null;
    }

    /// <summary>
    /// Loads the catalog and publishes it; false (with the error recorded) when it cannot be read. A
    /// source that cannot change (the demo) is read once; with <paramref name="ifChanged"/>, a source
    /// whose change token matches the published catalog's is not read again.
    /// </summary>
    public async Task<bool> ReloadAsync(string reason, CancellationToken ct, bool ifChanged = false)
    {
        if (!Live && _status.LoadedAtUtc is not null) return true;
        await _loading.WaitAsync(ct);
        try
        {
            if (ifChanged && host.Catalog.ChangeToken is { } published && await SourceTokenAsync(ct) == published)
            {
                _status = _status with { CheckedAtUtc = time.GetUtcNow().UtcDateTime };
                return true;
            }
            var clock = Stopwatch.StartNew();
            var catalog = await ReadAsync(ct);
            // Binding the serving model and building the legacy pool walk the whole catalog: not on a request thread.
            await Task.Run(() => host.SetCatalog(catalog), ct);
            var now = time.GetUtcNow().UtcDateTime;
            _status = new CatalogStatus(catalog.Source, catalog.Count, now, clock.Elapsed.TotalSeconds, null, null, now);
            ServerMetrics.CatalogTracks.Set(catalog.Count);
            ServerMetrics.CatalogLoads.WithLabels("ok").Inc();
            log.LogInformation("catalog ({Reason}): {Count} tracks from {Source} in {Seconds:F2} s", reason, catalog.Count, catalog.Source, clock.Elapsed.TotalSeconds);
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            LastFailureWasTransient = e is NpgsqlException or TimeoutException;
            _status = _status with { LastError = e.Message, LastErrorAtUtc = time.GetUtcNow().UtcDateTime };
            ServerMetrics.CatalogLoads.WithLabels("failed").Inc();
            log.LogWarning("catalog ({Reason}) not reloaded, the previous one keeps serving: {Message}", reason, e.Message);
            return false;
        }
        finally
        {
            _loading.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Live) return;
        while (!stoppingToken.IsCancellationRequested)
        {
            // Without any metadata yet (the database was down at start-up), try again soon, interval or not.
            TimeSpan? interval = options.CatalogRefreshSeconds > 0 ? TimeSpan.FromSeconds(options.CatalogRefreshSeconds) : null;
            TimeSpan? wait = Degraded is null ? interval : interval is { } i && i < DegradedRetry ? i : DegradedRetry;
            if (wait is not { } delay) return;
            try
            {
                await Task.Delay(delay, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            await ReloadAsync("interval", stoppingToken, ifChanged: true);
        }
    }
}
