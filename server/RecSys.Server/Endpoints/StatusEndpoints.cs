using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Prometheus;
using RecSys.Server.Configuration;
using RecSys.Server.Hosting;
using RecSys.Server.Lifecycle;

namespace RecSys.Server.Endpoints;

/// <summary>Health, readiness, model description and metrics.</summary>
internal static partial class StatusEndpoints
{
    public static void Map(WebApplication app)
    {
        app.MapGet("/health", () => Results.Json(new JsonObject { ["status"] = "ok" })).WithName("Health");
        app.MapGet("/ready", (ModelHost host, CatalogService catalog) => host.Current is { } serving
            ? Results.Json(catalog.Degraded is { } degraded
                ? new JsonObject { ["ready"] = true, ["status"] = "degraded", ["version"] = serving.Version, ["reason"] = degraded }
                : new JsonObject { ["ready"] = true, ["status"] = "ok", ["version"] = serving.Version })
            : Results.Json(new JsonObject { ["ready"] = false, ["reason"] = host.LastReload?.Message ?? "no model loaded yet" }, statusCode: StatusCodes.Status503ServiceUnavailable))
            .WithName("Ready");
        app.MapGet("/model", Describe).WithName("Model");
        // GET only (HEAD is routed as GET): a scrape endpoint that answered POST or DELETE invites misuse.
        app.MapMetrics("/metrics").WithMetadata(new HttpMethodMetadata([HttpMethods.Get]));
    }

    private static async Task<IResult> Describe(ModelHost host, CatalogService catalog, TrainingService training, TrainingScheduler scheduler, ServerOptions options,
        Events.EventIngest ingest, Events.LivePlays live, Cluster.ClusterNode node, IServiceProvider services)
    {
        // With replicas, the last run is the cluster's (whichever node trained), read from the database.
        var (last, lastError) = await ClusterTrainingsAsync(node, training);
        // The registry's pointer is a blocking read (the database's, with replicas): not on a socket thread.
        var cluster = await Task.Run(() => ClusterStatus(host, node, services.GetService<Cluster.ClusterFollower>()));
        var serving = host.Current;
        var catalogStatus = catalog.Status;
        var m = serving?.Manifest;
        var body = new JsonObject
        {
            ["version"] = serving?.Version,
            ["trained_at"] = m?.TrainedAtUtc,
            ["loaded_at"] = serving?.LoadedAtUtc,
            ["source"] = m?.Source,
            ["users"] = serving?.Model.UserCount,
            ["items"] = serving?.Model.ItemCount,
            ["factors"] = serving?.Model.Factors,
            ["interactions"] = m?.Interactions ?? serving?.Model.UserItems?.Nnz,
            ["parameters"] = m?.Parameters?.DeepClone(),
            ["tuned"] = m?.Tuned?.DeepClone(),
            ["metrics"] = m?.Metrics?.DeepClone(),
            ["retrieval"] = serving is null ? null : new JsonArray(serving.Recommender.RetrievalNotes.Select(n => (JsonNode)n).ToArray()),
            ["catalog"] = new JsonObject
            {
                ["source"] = host.Catalog.Source,
                ["tracks"] = host.Catalog.Count,
                ["loaded_at"] = catalogStatus.LoadedAtUtc,
                ["load_seconds"] = catalogStatus.LoadSeconds is { } s ? Math.Round(s, 3) : null,
                ["checked_at"] = catalogStatus.CheckedAtUtc,
                ["model_tracks_without_metadata"] = serving?.Fields(host.Catalog).WithoutMetadata,
                ["last_error"] = catalogStatus.LastError,
                ["last_error_at"] = catalogStatus.LastErrorAtUtc,
                ["degraded"] = catalog.Degraded,
            },
            ["events"] = EventStatus(ingest, live, serving),
            ["broken_versions"] = Broken(host.Store),
            ["last_reload"] = Outcome(host.LastReload),
            ["training"] = new JsonObject
            {
                ["running"] = training.Running,
                ["schedule"] = options.Schedule,
                ["time_zone"] = options.ScheduleZone.Id,
                ["next_run"] = scheduler.NextRunUtc,
                ["last"] = Training(last),
                ["last_error"] = Training(lastError),
                ["last_skipped"] = Training(training.LastSkipped),
            },
            ["cluster"] = cluster,
        };
        return Results.Json(Redact(body));
    }

    /// <summary>
    /// /model is public: the folders of absolute paths in its texts (the store, imported files, input
    /// files) say more about the host than a client needs; the file names stay.
    /// </summary>
    internal static JsonObject Redact(JsonObject body)
    {
        foreach (var (key, value) in body.ToList())
        {
            if (Redacted(value) is { } text) body[key] = text;
        }
        return body;
    }

    /// <summary>Redacts containers in place; for a string value, its redacted text (null for anything else).</summary>
    private static string? Redacted(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                Redact(o);
                return null;
            case JsonArray a:
                for (int i = 0; i < a.Count; i++)
                {
                    if (Redacted(a[i]) is { } text) a[i] = text;
                }
                return null;
            case JsonValue v when v.TryGetValue(out string? text):
                return AbsoluteFolders().Replace(text, ".../");
            default:
                return null;
        }
    }

    /// <summary>
    /// The folders of an absolute path (two or more, so "/admin/reload" in a message stays): a slash
    /// not preceded by a word character, a dot, a slash or a tilde ("https://host/x" is not a path).
    /// </summary>
    [GeneratedRegex(@"(?<![\w.~/])/(?:[^/\s:;,()'""]+/){2,}")]
    private static partial Regex AbsoluteFolders();

    /// <summary>Play events: the store, counts, and the tracks folded in since training (at most 100 listed).</summary>
    private static JsonObject EventStatus(Events.EventIngest ingest, Events.LivePlays live, ServingModel? serving)
    {
        var tracks = serving is null ? Events.LiveTracks.None : live.Tracks(serving);
        return new JsonObject
        {
            ["store"] = ingest.Store,
            ["stored"] = ingest.Stored,
            ["duplicates"] = ingest.Duplicates,
            ["queued"] = ingest.Queued,
            ["last_sequence"] = ingest.Through,
            ["trained_through"] = serving is null ? null : live.Through(serving),
            ["listeners_with_plays_since_training"] = live.Users,
            ["last_error"] = ingest.LastError,
            ["from_other_replicas"] = ingest.Feed is { } feed ? new JsonObject
            {
                ["received"] = feed.Received,
                ["applied_through"] = feed.Applied,
                ["last_error"] = feed.LastError,
            } : null,
            ["live_tracks"] = new JsonObject
            {
                ["count"] = tracks.Count,
                ["note"] = "tracks not in the model with factors folded in from their listeners since its training",
                ["tracks"] = new JsonArray(tracks.TrackIds.Take(100).Select((id, i) => (JsonNode)new JsonObject { ["track_id"] = id, ["listeners"] = tracks.Listeners[i] }).ToArray()),
            },
        };
    }

    private static async Task<(TrainingOutcome? Last, TrainingOutcome? LastError)> ClusterTrainingsAsync(Cluster.ClusterNode node, TrainingService training)
    {
        if (node.Trainings is not { } trainings) return (training.Last, training.LastError);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            var last = await trainings.LastAsync(failedOnly: false, timeout.Token);
            var failed = await trainings.LastAsync(failedOnly: true, timeout.Token);
            return (Outcome(last), Outcome(failed));
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or OperationCanceledException or TimeoutException)
        {
            // The database is away: this node's own runs still say something.
            return (training.Last, training.LastError);
        }
    }

    private static TrainingOutcome? Outcome(Cluster.TrainingRecord? r) =>
        r is null ? null : new TrainingOutcome(r.StartedUtc, r.FinishedUtc, r.Trigger, r.Ok, r.Version, r.Promoted, r.Message) { Node = r.Node };

    /// <summary>This replica against the registry: its name, where the pointer lives, and whether it serves what the pointer names.</summary>
    private static JsonObject ClusterStatus(ModelHost host, Cluster.ClusterNode node, Cluster.ClusterFollower? follower)
    {
        string? current = null, error = null;
        try
        {
            current = host.Store.Current;
            error = host.Store.Registry.Problem;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = e.Message;
        }
        return new JsonObject
        {
            ["node"] = node.Name,
            ["registry"] = host.Store.Registry.Kind,
            ["current"] = current,
            ["in_sync"] = error is null && current is not null && current == host.Current?.Version,
            ["listening"] = follower?.Listening,
            ["last_announcement"] = follower?.LastAnnouncementUtc,
            ["error"] = error,
        };
    }

    private static JsonObject? Training(TrainingOutcome? t) => t is null ? null : new JsonObject
    {
        ["node"] = t.Node,
        ["started_at"] = t.StartedUtc,
        ["finished_at"] = t.FinishedUtc,
        ["trigger"] = t.Trigger,
        ["ok"] = t.Ok,
        ["version"] = t.Version,
        ["promoted"] = t.Promoted,
        ["message"] = t.Message,
    };

    private static JsonObject Broken(ModelStore store)
    {
        var broken = new JsonObject();
        try
        {
            foreach (var (version, reason) in store.Broken()) broken[version] = reason;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The store is unreadable right now; /model still answers.
        }
        return broken;
    }

    private static JsonObject? Outcome(LoadOutcome? o) => o is null ? null : new JsonObject
    {
        ["at"] = o.AtUtc,
        ["ok"] = o.Ok,
        ["version"] = o.Version,
        ["message"] = o.Message,
    };
}
