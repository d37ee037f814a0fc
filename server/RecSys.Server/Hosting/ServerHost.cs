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
        services.AddSingleton<TrainingService>();
        services.AddSingleton<TrainingScheduler>();
        services.AddHostedService(sp => sp.GetRequiredService<TrainingScheduler>());
        services.AddHostedService<StartupService>();
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
        services.AddProblemDetails();
        services.AddOpenApi();

        var app = builder.Build();
        app.UseExceptionHandler();
        var problems = app.Services.GetRequiredService<IProblemDetailsService>();
        app.Use(async (context, next) =>
        {
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
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
        RecommendEndpoints.Map(app);
        StatusEndpoints.Map(app);
        AdminEndpoints.Map(app, options);
        app.MapOpenApi();
        return app;
    }

    /// <summary>Loads the catalog and the current model when the server starts; trains one if there is none.</summary>
    private sealed class StartupService(ServerOptions options, ModelHost host, TrainingService training, IServiceProvider services, ILogger<StartupService> log) : IHostedService
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
            }
            try
            {
                host.SetCatalog(await LoadCatalogAsync(cancellationToken));
                log.LogInformation("catalog: {Count} tracks from {Source}", host.Catalog.Count, host.Catalog.Source);
            }
            catch (Exception e) when (e is NpgsqlException or IOException or DataFormatException)
            {
                log.LogError("could not load track metadata ({Message}); tracks are served without it", e.Message);
            }
            var outcome = host.ReloadCurrent();
            if (outcome.Ok)
            {
                // Loading left its garbage (parsed files, the demo generator's plays) and its survivors
                // in the young generations: collect once now, before the first request, instead of
                // in the first seconds of traffic (on a 1M-track catalog those collections lifted the
                // p99 from 0.8 ms to 2–3 ms until they were done).
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            }
            if (!outcome.Ok && host.Store.Current is null && options.TrainIfMissing)
            {
                log.LogInformation("no model yet: training one from {Source} in the background (legacy answers until it is ready)", options.SourceName);
                training.TryStart("startup", out _);
            }
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        private async Task<TrackCatalog> LoadCatalogAsync(CancellationToken ct)
        {
            if (!string.IsNullOrWhiteSpace(options.Db)) return await TrackCatalog.FromPostgresAsync(options.Db, ct);
            if (options.MetadataFile is { Length: > 0 } file) return TrackCatalog.FromArtistsFile(file);
            if (options.InputFile is { Length: > 0 }) return TrackCatalog.Empty;
            return TrackCatalog.FromDemo(DemoCatalog.Generate(options.Demo));
        }
    }
}
