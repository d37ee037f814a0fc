using Npgsql;
using RecSys.Engine.IO;
using RecSys.Server.Configuration;
using RecSys.Server.Hosting;

namespace RecSys.Server.Lifecycle;

/// <summary>
/// Start-up: imports a model left at the original design's path, loads the catalog (a configured one
/// that cannot be read stops start-up unless AllowMissingMetadata), loads the newest promoted model
/// that loads, and trains one when none does.
/// </summary>
internal sealed class StartupService(ServerOptions options, ModelHost host, CatalogService catalog, TrainingService training,
    TimeProvider time, IServiceProvider services, ILogger<StartupService> log) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (services.GetService<NpgsqlDataSource>() is { } db)
        {
            // Open the pool now, so the first cold-start lookup does not pay for connecting.
            try
            {
                await using var connection = await db.OpenConnectionAsync(cancellationToken);
            }
            catch (NpgsqlException e)
            {
                log.LogError("cannot reach the database: {Message}", e.Message);
            }
            // A mapping that does not fit the database stops start-up with the setting named
            // (training and fold-in could not work); an unreachable database is checked again
            // by the first fold-in lookup and the next training.
            if (services.GetService<IUserPlays>() is PostgresUserPlays plays)
            {
                try
                {
                    await plays.PrepareAsync(cancellationToken);
                }
                catch (NpgsqlException e)
                {
                    log.LogError("could not check the plays table: {Message}", e.Message);
                }
            }
        }
        try
        {
            var stale = host.Store.RemoveStaleFiles();
            if (stale.Count > 0) log.LogInformation("removed what killed writers left in {Store}: {Names}", host.Store.Root, string.Join(", ", stale));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.LogWarning("could not clean the model store: {Message}", e.Message);
        }
        if (host.Store.Registry is Cluster.PostgresPromotionRegistry registry)
        {
            try
            {
                // The tables, and a first row carried over from this node's own files when the registry is new
                // (tried again by every later read when the database is away now).
                // Blocking calls, and this may be a socket thread an awaited read resumed on: on the pool.
                await Task.Run(registry.EnsureInitialized, cancellationToken);
            }
            catch (IOException e)
            {
                log.LogError("cannot prepare the shared model registry: {Message}; serving the version last written to {Store} until it answers", e.Message, host.Store.Root);
            }
        }
        await Task.Run(ImportOriginalDesignModel, cancellationToken);
        if (!await catalog.ReloadAsync("startup", cancellationToken))
        {
            // Configured metadata that cannot be read is a configuration error (a wrong mapping, a
            // bad file): stop and say so. A database that is down right now is not: start
            // degraded, and the interval reload reads the metadata once it answers.
            string error = catalog.Status.LastError ?? "unknown error";
            if (!options.AllowMissingMetadata && !catalog.LastFailureWasTransient)
            {
                throw new InvalidOperationException(
                    $"could not read the configured track metadata: {error} " +
                    "(fix the RecSys:Db:Tracks:*/Artists:* or MetadataFile setting it names, or start with --allow-missing-metadata to serve without it)");
            }
            log.LogError("serving without track metadata (/ready says degraded): {Error}", error);
        }
        var outcome = await Task.Run(host.LoadAtStartup, cancellationToken);
        if (outcome.Ok)
        {
            // Loading left its garbage (parsed files, the demo generator's plays) and its survivors
            // in the young generations: collect once now, before the first request, instead of
            // in the first seconds of traffic (on a 1M-track catalog those collections lifted the
            // p99 from 0.8 ms to 2–3 ms until they were done).
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        }
        // Nothing serves (no version, or none that loads): train one rather than answer legacy until the schedule.
        if (!outcome.Ok && options.TrainIfMissing)
        {
            log.LogInformation("no model yet: training one from {Source} in the background (legacy answers until it is ready)", options.SourceName);
            // Replicas starting together all ask; the first trains, and the others, finding a version
            // promoted since their own load looked once they hold the training lock, follow it instead.
            training.TryStart("startup", out _, waitForLock: true, decline: () => PromotedSince(outcome.Version) is { } v ? $"{v} was promoted meanwhile" : null);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The current version when it is no longer <paramref name="seen"/> (what start-up's load found), else null.</summary>
    private string? PromotedSince(string? seen)
    {
        try
        {
            return host.Store.Current is { } now && now != seen ? now : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>
    /// The original design kept its model at storage/recommender/model.npz, RecSys's store root: a
    /// file there is imported once (its hash is kept in the version's manifest) and promoted when
    /// the store has no current version. A file that does not load is reported and left alone.
    /// </summary>
    private void ImportOriginalDesignModel()
    {
        var store = host.Store;
        string path = Path.Combine(store.Root, ModelStore.ModelFileName);
        if (!File.Exists(path)) return;
        try
        {
            string sha256 = FileHash.Sha256(path);
            if (store.FindImport(sha256) is { } existing)
            {
                log.LogInformation("{Path} was imported before as {Version}", path, existing);
                return;
            }
            string version = store.Import(path, sha256, time);
            bool promote = store.Current is null;
            if (promote) store.Promote(version);
            log.LogInformation("imported the original design's model {Path} as {Version}{Promoted}", path, version, promote ? " and made it current" : " (not promoted: the store has a current version)");
        }
        catch (Exception e) when (e is Engine.Model.ModelFormatException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            log.LogError("could not import the original design's model {Path}: {Message}", path, e.Message);
        }
    }
}
