using Npgsql;
using RecSys.Engine.Data;
using RecSys.Server.Endpoints;
using RecSys.Server.Metadata;

namespace RecSys.Server.Hosting;

/// <summary>Builds the Kestrel application: services, endpoints, metrics, and the start-up work.</summary>
public static class ServerHost
{
    public static WebApplication Build(ServerOptions options, TimeProvider? time = null, Action<ILoggingBuilder>? logging = null)
    {
        ServerMetrics.Initialize();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseUrls($"http://{options.Host}:{options.Port}");
        builder.WebHost.UseSockets(o =>
        {
            o.UnsafePreferInlineScheduling = options.InlineScheduling;
            if (options.IoThreads > 0) o.IOQueueCount = options.IoThreads;
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
        // With any level of this category on, hosting starts an Activity and a logging scope for
        // every request (the Activity, its ids, async-local maps: about 40 % of a cached answer's
        // garbage, measured with dotnet-trace); it only logs request starts and ends, which
        // /metrics counts instead.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        logging?.Invoke(builder.Logging);

        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton(time ?? TimeProvider.System);
        services.AddSingleton(new ModelStore(options.Storage, options.KeepVersions));
        services.AddSingleton<ModelHost>();
        services.AddSingleton<CatalogService>();
        services.AddSingleton<TrainingService>();
        services.AddSingleton<TrainingScheduler>();
        // Start-up first: it loads the catalog and the model before the schedule and the interval reloads begin.
        services.AddHostedService<StartupService>();
        services.AddHostedService(sp => sp.GetRequiredService<CatalogService>());
        services.AddHostedService(sp => sp.GetRequiredService<TrainingScheduler>());
        services.AddSingleton<RecommendationService>();
        services.AddSingleton(new ResponseCache(options.ResponseCacheEntries, options.ResponseCacheMegabytes << 20));
        if (!string.IsNullOrWhiteSpace(options.Db))
        {
            services.AddSingleton(_ => NpgsqlDataSource.Create(options.Db));
            services.AddSingleton<IUserPlays, PostgresUserPlays>();
        }
        else
        {
            services.AddSingleton<IUserPlays, NoUserPlays>();
        }
        var origins = options.Cors.OriginList;
        if (origins.Count > 0)
        {
            services.AddCors(cors => cors.AddDefaultPolicy(policy =>
            {
                if (origins.Contains("*")) policy.AllowAnyOrigin();
                else policy.WithOrigins([.. origins]);
                policy.WithMethods("GET", "HEAD", "POST").WithHeaders("Authorization", "Content-Type").SetPreflightMaxAge(TimeSpan.FromHours(1));
            }));
        }
        services.AddProblemDetails();
        services.AddOpenApi();

        var app = builder.Build();
        app.UseExceptionHandler();
        var problems = app.Services.GetRequiredService<IProblemDetailsService>();
        app.Use(async (context, next) =>
        {
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            var request = context.Request;
            // HEAD is GET without the body (RFC 9110): routed as GET; Kestrel, which knows the request
            // line said HEAD, sends the headers and drops the body.
            if (HttpMethods.IsHead(request.Method)) request.Method = HttpMethods.Get;
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = NoSniff;
            headers.CacheControl = NoStore;
            await next(context);
            // A bare error status (no route, wrong method) gets a problem+json body, as
            // UseStatusCodePages writes it, without the feature and dictionary that middleware
            // allocates on every request.
            var response = context.Response;
            if (response.StatusCode is >= 400 and < 600 && !response.HasStarted && response.ContentLength is null && string.IsNullOrEmpty(response.ContentType))
            {
                await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = { Status = response.StatusCode } });
            }
            string endpoint = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched";
            ServerMetrics.RequestDuration.WithLabels(endpoint).Observe(System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds);
            ServerMetrics.Requests.WithLabels(endpoint, ServerMetrics.StatusLabel(context.Response.StatusCode)).Inc();
        });
        // Routing after the method rewrite above (without this call it would run first).
        app.UseRouting();
        // Only with origins configured: without them a browser gets no CORS headers and each request skips the middleware.
        if (origins.Count > 0) app.UseCors();
        RecommendEndpoints.Map(app);
        StatusEndpoints.Map(app);
        AdminEndpoints.Map(app, options);
        app.MapOpenApi();
        return app;
    }

    private static readonly Microsoft.Extensions.Primitives.StringValues NoSniff = "nosniff";

    /// <summary>Answers depend on the model and the catalog of the moment: no cache should keep them.</summary>
    private static readonly Microsoft.Extensions.Primitives.StringValues NoStore = "no-store";

    /// <summary>
    /// Start-up: imports a model left at the original design's path, loads the catalog (a configured one
    /// that cannot be read stops start-up unless AllowMissingMetadata), loads the newest good model, and
    /// trains one if the store has none.
    /// </summary>
    private sealed class StartupService(ServerOptions options, ModelHost host, CatalogService catalog, TrainingService training,
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
            ImportOriginalDesignModel();
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
                training.TryStart("startup", out _);
            }
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

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
                string sha256 = ModelStore.Sha256(path);
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
}
