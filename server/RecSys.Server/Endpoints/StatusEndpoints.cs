using System.Text.Json.Nodes;
using Prometheus;
using RecSys.Server.Hosting;

namespace RecSys.Server.Endpoints;

/// <summary>Health, readiness, model description and metrics.</summary>
internal static class StatusEndpoints
{
    public static void Map(WebApplication app)
    {
        app.MapGet("/health", () => Results.Json(new JsonObject { ["status"] = "ok" })).WithName("Health");
        app.MapGet("/ready", (ModelHost host) => host.Current is { } serving
            ? Results.Json(new JsonObject { ["ready"] = true, ["version"] = serving.Version })
            : Results.Json(new JsonObject { ["ready"] = false, ["reason"] = host.LastReload?.Message ?? "no model loaded yet" }, statusCode: StatusCodes.Status503ServiceUnavailable))
            .WithName("Ready");
        app.MapGet("/model", Describe).WithName("Model");
        app.MapMetrics("/metrics");
    }

    private static IResult Describe(ModelHost host, TrainingService training, TrainingScheduler scheduler, ServerOptions options)
    {
        var serving = host.Current;
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
            ["metrics"] = m?.Metrics?.DeepClone(),
            ["retrieval"] = serving is null ? null : new JsonArray(serving.Recommender.Retrievers.Notes.Select(n => (JsonNode)n).ToArray()),
            ["catalog"] = new JsonObject { ["source"] = host.Catalog.Source, ["tracks"] = host.Catalog.Count },
            ["last_reload"] = Outcome(host.LastReload),
            ["training"] = new JsonObject
            {
                ["running"] = training.Running,
                ["schedule"] = options.Schedule,
                ["next_run"] = scheduler.NextRunUtc,
                ["last"] = training.Last is { } t ? new JsonObject
                {
                    ["started_at"] = t.StartedUtc,
                    ["finished_at"] = t.FinishedUtc,
                    ["trigger"] = t.Trigger,
                    ["ok"] = t.Ok,
                    ["version"] = t.Version,
                    ["promoted"] = t.Promoted,
                    ["message"] = t.Message,
                } : null,
            },
        };
        return Results.Json(body);
    }

    private static JsonObject? Outcome(LoadOutcome? o) => o is null ? null : new JsonObject
    {
        ["at"] = o.AtUtc,
        ["ok"] = o.Ok,
        ["version"] = o.Version,
        ["message"] = o.Message,
    };
}
