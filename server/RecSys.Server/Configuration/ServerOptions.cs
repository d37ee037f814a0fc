using RecSys.Engine.Als;
using RecSys.Engine.Data;
using RecSys.Engine.Recommend;

namespace RecSys.Server.Configuration;

/// <summary>
/// Everything the server can be told, bound from the "RecSys" section of appsettings.json, environment
/// variables (RECSYS__PORT, RECSYS__ADMINTOKEN, …; RECSYS_DB for the database) and the command line.
/// Validated at start-up: a bad value stops the server with a message naming it.
/// </summary>
public sealed class ServerOptions
{
    public const string Section = "RecSys";

    /// <summary>Address to listen on.</summary>
    public string Host { get; set; } = "127.0.0.1";
    public int Port { get; set; } = 8000;

    /// <summary>PostgreSQL connection string (RecSys:Db, or RecSys:Db:ConnectionString in a JSON file); empty = the embedded demo catalog.</summary>
    public string? Db { get; set; }

    /// <summary>Table and column names in that database (RecSys:Db:Interactions:*, :Tracks:*, :Artists:*; docs/database.md).</summary>
    public PostgresMapping DbMapping { get; set; } = new();

    /// <summary>
    /// Start even when the configured track metadata cannot be read: /ready then says "degraded" and
    /// why, and answers carry null metadata until a reload reads it. Off: such a start-up fails.
    /// </summary>
    public bool AllowMissingMetadata { get; set; }

    /// <summary>Seconds between background reloads of the track metadata (also reloaded at every promotion and /admin/reload); 0 turns the interval off.</summary>
    public int CatalogRefreshSeconds { get; set; } = 300;

    /// <summary>IANA time zone of <see cref="Schedule"/> (e.g. Europe/Berlin); default UTC.</summary>
    public string ScheduleTimeZone { get; set; } = "UTC";

    /// <summary>
    /// Return a replaced model's memory with one aggressive full collection 2 s after a swap (a pause
    /// of tens of milliseconds on the 50k demo, more on a heap of gigabytes; docs/reliability.md).
    /// </summary>
    public bool CollectAfterSwap { get; set; } = true;

    /// <summary>Cross-origin access for browser clients (the Flutter web build).</summary>
    public CorsOptions Cors { get; set; } = new();

    /// <summary>Where models live (&lt;storage&gt;/models/&lt;version&gt;/ and the "current" pointer), and without a database the play events (&lt;storage&gt;/events/plays.log).</summary>
    public string Storage { get; set; } = "storage/recommender";

    /// <summary>Interaction file to train from instead of the database or the demo (e.g. Last.fm's user_artists.dat).</summary>
    public string? InputFile { get; set; }

    /// <summary>Metadata file for file-trained models (Last.fm's artists.dat: id, name, url, picture).</summary>
    public string? MetadataFile { get; set; }

    /// <summary>Users with fewer interactions than this are served by fold-in (or popularity).</summary>
    public int ColdStartThreshold { get; set; } = 5;

    public int MaxLimit { get; set; } = 500;

    /// <summary>Answers (rankings of /ml for known users and of /similar) kept per model (0 turns the cache off).</summary>
    public int ResponseCacheEntries { get; set; } = 500_000;

    /// <summary>Memory for the cached rankings (one slab, allocated on first use; about 300 bytes per 20-track answer, scores kept as text); 0 turns the cache off.</summary>
    public int ResponseCacheMegabytes { get; set; } = 128;

    /// <summary>
    /// Run request handlers on the socket threads (fewer thread switches; handlers never block);
    /// <c>recsys serve</c> then also has the runtime complete socket reads inline.
    /// </summary>
    public bool InlineScheduling { get; set; } = true;

    /// <summary>
    /// Socket threads, 0 for the default (one per core): Kestrel's IOQueueCount and, with inline
    /// scheduling under <c>recsys serve</c>, the runtime's socket threads that run the requests.
    /// </summary>
    public int IoThreads { get; set; }

    /// <summary>Bearer token of POST /admin/reload and /admin/train; without one those endpoints do not exist.</summary>
    public string? AdminToken { get; set; }

    /// <summary>Cron schedule of retraining (in <see cref="ScheduleTimeZone"/>); empty turns scheduled training off.</summary>
    public string Schedule { get; set; } = "0 3 * * *";

    /// <summary>Model versions kept in the store.</summary>
    public int KeepVersions { get; set; } = 5;

    /// <summary>A candidate whose holdout NDCG@10 is below the current model's by more than this is not promoted.</summary>
    public double NdcgTolerance { get; set; } = 0.02;

    /// <summary>Fraction of interactions held out to evaluate each trained model.</summary>
    public double HoldoutFraction { get; set; } = 0.1;

    /// <summary>Users sampled for the holdout evaluation of each trained model (each costs a scan of the catalog).</summary>
    public int EvaluationUsers { get; set; } = 2_000;

    /// <summary>Train a model at start-up when the store has none.</summary>
    public bool TrainIfMissing { get; set; } = true;

    /// <summary>Training device: auto, cpu, gpu or ilgpu-cpu.</summary>
    public string Device { get; set; } = "auto";

    /// <summary>Play events received over POST /events/plays (docs/events.md).</summary>
    public EventOptions Events { get; set; } = new();

    /// <summary>Replicas coordinated through the database (RecSys:Cluster:*).</summary>
    public ClusterOptions Cluster { get; set; } = new();

    /// <summary>Whether the model registry and the training lock are the database's (replicas act as one).</summary>
    public bool Clustered => Cluster.Enabled && !string.IsNullOrWhiteSpace(Db);

    /// <summary>A/B experiments (docs/experiments.md).</summary>
    public ExperimentOptions Experiments { get; set; } = new();

    /// <summary>Self-tuning of the trainings (docs/tuning.md).</summary>
    public TuningSettings Tuning { get; set; } = new();

    /// <summary>The web console at / (docs/console.md).</summary>
    public ConsoleOptions Console { get; set; } = new();

    public DemoOptions Demo { get; set; } = new();
    public AlsOptions Training { get; set; } = new();
    public RetrievalOptions Retrieval { get; set; } = new();

    /// <summary>Every problem with the options, each naming the setting; empty when valid.</summary>
    public List<string> Validate()
    {
        var problems = new List<string>();
        if (Port is < 0 or > 65535) problems.Add($"RecSys:Port must be in 0..65535 (got {Port})");
        if (string.IsNullOrWhiteSpace(Host)) problems.Add("RecSys:Host must not be empty");
        if (string.IsNullOrWhiteSpace(Storage)) problems.Add("RecSys:Storage must not be empty");
        if (ColdStartThreshold < 0) problems.Add($"RecSys:ColdStartThreshold must be >= 0 (got {ColdStartThreshold})");
        if (MaxLimit is < 1 or > 100_000) problems.Add($"RecSys:MaxLimit must be in 1..100000 (got {MaxLimit})");
        if (ResponseCacheMegabytes is < 0 or > 1024) problems.Add($"RecSys:ResponseCacheMegabytes must be between 0 and 1024 (got {ResponseCacheMegabytes})");
        if (IoThreads < 0) problems.Add($"RecSys:IoThreads must be >= 0 (got {IoThreads})");
        if (ResponseCacheEntries < 0) problems.Add($"RecSys:ResponseCacheEntries must be >= 0 (got {ResponseCacheEntries})");
        if (EvaluationUsers < 1) problems.Add($"RecSys:EvaluationUsers must be >= 1 (got {EvaluationUsers})");
        if (KeepVersions < 1) problems.Add($"RecSys:KeepVersions must be >= 1 (got {KeepVersions})");
        if (!(NdcgTolerance >= 0)) problems.Add($"RecSys:NdcgTolerance must be >= 0 (got {NdcgTolerance})");
        if (!(HoldoutFraction > 0 && HoldoutFraction < 1)) problems.Add($"RecSys:HoldoutFraction must be in (0, 1) (got {HoldoutFraction})");
        if (AdminToken is { Length: > 0 and < 16 }) problems.Add("RecSys:AdminToken must be at least 16 characters");
        if (!string.IsNullOrWhiteSpace(Schedule))
        {
            try
            {
                Cronos.CronExpression.Parse(Schedule);
            }
            catch (Cronos.CronFormatException e)
            {
                problems.Add($"RecSys:Schedule '{Schedule}' is not a cron expression: {e.Message}");
            }
        }
        if (CatalogRefreshSeconds is < 0 or > 604_800) problems.Add($"RecSys:CatalogRefreshSeconds must be in 0..604800, a week (got {CatalogRefreshSeconds})");
        if (!TryFindTimeZone(ScheduleTimeZone, out _)) problems.Add($"RecSys:ScheduleTimeZone '{ScheduleTimeZone}' is not a time zone id (IANA, e.g. Europe/Berlin)");
        foreach (string origin in Cors.OriginList)
        {
            if (origin != "*" && !(Uri.TryCreate(origin, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.AbsolutePath == "/" && !origin.EndsWith('/')))
            {
                problems.Add($"RecSys:Cors:Origins: '{origin}' is not an origin (scheme://host[:port], no path), nor '*'");
            }
        }
        if (InputFile is { Length: > 0 } && !File.Exists(InputFile)) problems.Add($"RecSys:InputFile not found: {InputFile}");
        if (MetadataFile is { Length: > 0 } && !File.Exists(MetadataFile)) problems.Add($"RecSys:MetadataFile not found: {MetadataFile}");
        problems.AddRange(Events.Validate());
        problems.AddRange(Cluster.Validate());
        problems.AddRange(Experiments.Validate());
        problems.AddRange(Console.Validate());
        problems.AddRange(Tuning.Validate());
        Check(problems, "RecSys:Device", () => Engine.Compute.Gpu.DeviceSelector.Parse(Device));
        Check(problems, "RecSys:Training", Training.Validate);
        Check(problems, "RecSys:Retrieval", Retrieval.Validate);
        Check(problems, "RecSys:Demo", Demo.Validate);
        return problems;
    }

    private static void Check(List<string> problems, string section, Action validate)
    {
        try
        {
            validate();
        }
        catch (ArgumentException e)
        {
            problems.Add($"{section}: {e.Message.Split(" (Parameter")[0]}");
        }
    }

    /// <summary>The schedule's time zone (validated at start-up).</summary>
    public TimeZoneInfo ScheduleZone => TryFindTimeZone(ScheduleTimeZone, out var zone) ? zone : TimeZoneInfo.Utc;

    private static bool TryFindTimeZone(string id, out TimeZoneInfo zone)
    {
        zone = TimeZoneInfo.Utc;
        if (string.IsNullOrWhiteSpace(id)) return false;
        return TimeZoneInfo.TryFindSystemTimeZoneById(id, out zone!);
    }

    /// <summary>Where training data comes from, in words.</summary>
    public string SourceName => !string.IsNullOrWhiteSpace(Db) ? "postgres" : InputFile is { Length: > 0 } ? InputFile : "demo";
}

/// <summary>CORS: the origins a browser may call the API from (none by default: the API is then same-origin only for browsers).</summary>
public sealed class CorsOptions
{
    /// <summary>Comma-separated origins (https://app.example.com,http://localhost:5000), or * for any.</summary>
    public string? Origins { get; set; }

    public IReadOnlyList<string> OriginList =>
        (Origins ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
}
