using Npgsql;
using RecSys.Engine.Data;
using RecSys.Server.Cluster;
using RecSys.Server.Configuration;
using RecSys.Server.Endpoints;
using RecSys.Server.Events;
using RecSys.Server.Experiments;
using RecSys.Server.Hosting;
using RecSys.Server.Lifecycle;
using RecSys.Server.Metadata;
using RecSys.Server.WebConsole;

namespace RecSys.Server;

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
        string node = options.Cluster.NodeName(options.Port);
        if (options.Clustered)
        {
            // Replicas: the registry and the one-trainer lock are the database's; the versions' files stay in the (shared) storage folder.
            services.AddSingleton(sp => new PostgresPromotionRegistry(sp.GetRequiredService<NpgsqlDataSource>(), node,
                new FilePromotionRegistry(Path.GetFullPath(options.Storage))));
            services.AddSingleton(sp => new ModelStore(options.Storage, options.KeepVersions, sp.GetRequiredService<PostgresPromotionRegistry>()));
            services.AddSingleton(sp => new ClusterNode(node,
                new ClusterTrainings(sp.GetRequiredService<NpgsqlDataSource>(), options.Db!, node, sp.GetRequiredService<PostgresPromotionRegistry>())));
            services.AddSingleton<ClusterPlayFeed>();
            services.AddSingleton<ISharedPlayFeed>(sp => sp.GetRequiredService<ClusterPlayFeed>());
        }
        else
        {
            services.AddSingleton(new ModelStore(options.Storage, options.KeepVersions));
            services.AddSingleton(new ClusterNode(node, null));
        }
        services.AddSingleton<ModelHost>();
        services.AddSingleton<CatalogService>();
        services.AddSingleton<TrainingService>();
        services.AddSingleton<TrainingScheduler>();
        services.AddSingleton<LivePlays>();
        services.AddSingleton<EventIngest>();
        // The event store opens first: a training at start-up reads the embedded log.
        services.AddHostedService(sp => sp.GetRequiredService<EventIngest>());
        // Start-up next: it loads the catalog and the model before the schedule and the interval reloads begin.
        services.AddHostedService<StartupService>();
        // Following the shared registry once the start-up load is done.
        if (options.Clustered)
        {
            services.AddSingleton<ClusterFollower>();
            services.AddHostedService(sp => sp.GetRequiredService<ClusterFollower>());
        }
        // Experiments after the model: an arm's model version loads beside the serving one.
        services.AddSingleton(_ => ExperimentStores.For(options));
        services.AddSingleton<ExperimentService>();
        services.AddHostedService(sp => sp.GetRequiredService<ExperimentService>());
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
        // The exception handler clears the response, headers included, before it writes a 500: the
        // headers every answer carries are set again on every problem written.
        services.AddProblemDetails(o => o.CustomizeProblemDetails = context =>
        {
            var headers = context.HttpContext.Response.Headers;
            headers.XContentTypeOptions = NoSniff;
            headers.CacheControl = NoStore;
        });
        services.AddOpenApi();

        var app = builder.Build();
        // A track that gets factors between trainings may outrank what cached answers hold.
        var responseCache = app.Services.GetRequiredService<ResponseCache>();
        app.Services.GetRequiredService<LivePlays>().TracksChanged += responseCache.Clear;
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
        EventEndpoints.Map(app);
        AdminEndpoints.Map(app, options);
        ListenerEndpoints.Map(app, options);
        VersionEndpoints.MapPublic(app);
        ConsoleEndpoints.Map(app, options.Console);
        app.MapOpenApi();
        return app;
    }

    private static readonly Microsoft.Extensions.Primitives.StringValues NoSniff = "nosniff";

    /// <summary>Answers depend on the model and the catalog of the moment: no cache should keep them.</summary>
    private static readonly Microsoft.Extensions.Primitives.StringValues NoStore = "no-store";
}
