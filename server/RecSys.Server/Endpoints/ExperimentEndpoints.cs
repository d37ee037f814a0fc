using System.Text.Json.Nodes;
using RecSys.Engine.Experiments;
using RecSys.Server.Experiments;

namespace RecSys.Server.Endpoints;

/// <summary>The admin API of A/B experiments (under the admin group's bearer token): create, list, show, stop, report.</summary>
internal static class ExperimentEndpoints
{
    public static void Map(RouteGroupBuilder admin)
    {
        admin.MapPost("/experiments", async (HttpContext http, ExperimentService experiments, TimeProvider time) =>
        {
            // Admin-only, but still bounded: a definition is a few kilobytes (a chunked body is cut by Kestrel at the limit).
            if (http.Request.ContentLength > MaxBody) return TooLarge();
            if (http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = MaxBody;
            string body;
            try
            {
                using var reader = new StreamReader(http.Request.Body);
                body = await reader.ReadToEndAsync(http.RequestAborted);
            }
            catch (Microsoft.AspNetCore.Http.BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                return TooLarge();
            }
            if (body.Length > MaxBody) return TooLarge();
            ExperimentDefinition definition;
            try
            {
                definition = ExperimentJson.Parse(body);
                definition = await experiments.SaveAsync(definition, http.RequestAborted);
            }
            catch (Exception e) when (e is FormatException or ArgumentException)
            {
                return Results.Problem(title: "Invalid experiment", detail: e.Message, statusCode: StatusCodes.Status400BadRequest);
            }
            catch (Exception e) when (IsStoreFailure(e))
            {
                return Unavailable(experiments, e);
            }
            var json = Describe(definition, experiments, time);
            return definition.Version == 1
                ? Results.Json(json, statusCode: StatusCodes.Status201Created)
                : Results.Json(json);
        }).WithName("CreateExperiment").WithSummary("Create an experiment, or store a new version of one (201 for a new one)");

        admin.MapGet("/experiments", (ExperimentService experiments, TimeProvider time) => StoreCallAsync(experiments, () =>
        {
            var unreadable = new List<string>();
            var latest = experiments.Stores.Definitions.Latest(unreadable);
            return Results.Json(new JsonObject
            {
                ["experiments"] = new JsonArray([.. latest.Select(d => (JsonNode)Describe(d, experiments, time))]),
                ["unreadable"] = new JsonArray([.. unreadable.Select(p => (JsonNode)JsonValue.Create(p))]),
            });
        })).WithName("ListExperiments");

        admin.MapGet("/experiments/{id}", (string id, ExperimentService experiments, TimeProvider time) => StoreCallAsync(experiments, () =>
        {
            var history = experiments.Stores.Definitions.History(id);
            if (history.Count == 0) return Unknown(id);
            var json = Describe(history[^1], experiments, time);
            json["versions"] = new JsonArray([.. history.Select(d => (JsonNode)ExperimentJson.ToJson(d))]);
            return Results.Json(json);
        })).WithName("ShowExperiment");

        admin.MapPost("/experiments/{id}/stop", async (string id, ExperimentService experiments, TimeProvider time, CancellationToken ct) =>
        {
            try
            {
                return await experiments.StopAsync(id, ct) is { } stopped ? Results.Json(Describe(stopped, experiments, time)) : Unknown(id);
            }
            catch (Exception e) when (IsStoreFailure(e))
            {
                return Unavailable(experiments, e);
            }
        }).WithName("StopExperiment");

        admin.MapGet("/experiments/{id}/report", (string id, HttpContext http, ExperimentService experiments, TimeProvider time) => StoreCallAsync(experiments, () =>
        {
            bool cuped = http.Request.Query["cuped"] != "false";
            var history = experiments.Stores.Definitions.History(id);
            return history.Count == 0 ? Unknown(id) : Results.Json(ExperimentReports.Build(experiments.Stores, history[^1], time.GetUtcNow().UtcDateTime, cuped));
        })).WithName("ExperimentReport").WithSummary("Per arm: users, exposures, metrics, lifts with 95% intervals, p-values, SRM check");
    }

    /// <summary>Store work on a pool thread (the stores are synchronous); a store that cannot be read answers 503, not 500.</summary>
    private static async Task<IResult> StoreCallAsync(ExperimentService experiments, Func<IResult> call)
    {
        try
        {
            return await Task.Run(call);
        }
        catch (Exception e) when (IsStoreFailure(e))
        {
            return Unavailable(experiments, e);
        }
    }

    private static bool IsStoreFailure(Exception e) => e is Npgsql.NpgsqlException or IOException or InvalidDataException or UnauthorizedAccessException;

    private static JsonObject Describe(ExperimentDefinition definition, ExperimentService experiments, TimeProvider time)
    {
        var json = ExperimentJson.ToJson(definition);
        json["status"] = definition.Status(time.GetUtcNow().UtcDateTime);
        json["serving"] = experiments.Set.Find(definition.Id)?.Definition.Version == definition.Version;
        if (experiments.Problems.TryGetValue(definition.Id, out string? problem)) json["problem"] = problem;
        return json;
    }

    private const int MaxBody = 1 << 20;

    private static IResult Unavailable(ExperimentService experiments, Exception e) =>
        Results.Problem(title: "Experiment store unavailable", detail: $"{experiments.Stores.Definitions.Description}: {e.Message}",
            statusCode: StatusCodes.Status503ServiceUnavailable, extensions: new Dictionary<string, object?> { ["retry"] = true });

    private static IResult TooLarge() =>
        Results.Problem(title: "Experiment too large", detail: $"an experiment definition may have at most {MaxBody} bytes", statusCode: StatusCodes.Status413PayloadTooLarge);

    private static IResult Unknown(string id) =>
        Results.Problem(title: "Unknown experiment", detail: $"no experiment '{id}' in the store", statusCode: StatusCodes.Status404NotFound);
}
