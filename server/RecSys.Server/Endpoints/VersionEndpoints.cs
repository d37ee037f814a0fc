using System.Text.Json.Nodes;
using RecSys.Engine.Model;
using RecSys.Server.Hosting;

namespace RecSys.Server.Endpoints;

/// <summary>
/// The stored model versions with their holdout metrics (public, like /model), and the operator's
/// promote and rollback (admin): the console's model page, and what <c>recsys model promote|rollback</c>
/// do on disk, done by the running server so that it serves the result at once.
/// </summary>
internal static class VersionEndpoints
{
    public static void MapPublic(WebApplication app) =>
        app.MapGet("/model/versions", (ModelHost host) => Task.Run(() => List(host)))
            .WithName("ModelVersions").WithSummary("Stored model versions, oldest first, with their parameters, holdout metrics and status");

    public static void MapAdmin(RouteGroupBuilder admin)
    {
        // Loading a version (factors, index, lists) takes a while for large catalogs: off the socket threads.
        admin.MapPost("/models/{version}/promote", async (string version, ModelHost host) =>
        {
            if (!ModelStore.IsVersionName(version)) return ApiParameters.Invalid("version", $"'{ApiParameters.Shorten(version)}' is not a version name (as GET /model/versions lists them)");
            if (!await Task.Run(() => Stored(host.Store, version)))
            {
                return Results.Problem(title: "Unknown version", detail: $"no model version '{version}' in the store (GET /model/versions lists them)", statusCode: StatusCodes.Status404NotFound);
            }
            var outcome = await Task.Run(() => host.PromoteNow(version));
            return Answer(outcome, "Promotion failed");
        }).WithName("PromoteVersion").WithSummary("Load a stored version and make it current and serving (no quality gate: an operator's decision)");

        admin.MapPost("/models/rollback", async (HttpContext http, ModelHost host) =>
        {
            // ?to=VERSION: the target the operator was shown; another one is refused (a repeated click must not roll back twice).
            string? to = http.Request.Query["to"].Count > 0 ? http.Request.Query["to"].ToString() : null;
            if (to is not null && !ModelStore.IsVersionName(to)) return ApiParameters.Invalid("to", $"'{ApiParameters.Shorten(to)}' is not a version name (as GET /model/versions lists them)");
            return Answer(await Task.Run(() => host.RollBack(to)), "Rollback failed");
        }).WithName("RollbackVersion").WithSummary("Load the previously promoted version (?to=VERSION: only if it is that one) and make it current and serving");
    }

    private static IResult Answer(LoadOutcome outcome, string failure) => outcome.Ok
        ? Results.Json(new JsonObject { ["ok"] = true, ["version"] = outcome.Version, ["message"] = outcome.Message })
        : Results.Problem(title: failure, detail: outcome.Message, statusCode: StatusCodes.Status409Conflict);

    private static IResult List(ModelHost host)
    {
        var store = host.Store;
        IReadOnlyList<string> versions;
        IReadOnlyDictionary<string, string> broken;
        IReadOnlyList<string> history;
        string? current, previous;
        try
        {
            versions = store.Versions();
            broken = store.Broken();
            history = store.PromotionHistory();
            current = store.Current;
            previous = store.RollbackTarget();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Results.Problem(title: "Model store unreadable", detail: e.Message, statusCode: StatusCodes.Status503ServiceUnavailable);
        }
        string? serving = host.Current?.Version;
        var list = new JsonArray();
        foreach (string version in versions)
        {
            var item = new JsonObject
            {
                ["version"] = version,
                ["current"] = version == current,
                ["serving"] = version == serving,
                ["promoted"] = history.Contains(version),
                ["broken"] = broken.GetValueOrDefault(version),
            };
            try
            {
                if (store.ReadManifest(version) is { } m)
                {
                    item["trained_at"] = m.TrainedAtUtc;
                    item["source"] = m.Source;
                    item["users"] = m.Users;
                    item["items"] = m.Items;
                    item["interactions"] = m.Interactions;
                    item["parameters"] = m.Parameters?.DeepClone();
                    item["metrics"] = m.Metrics?.DeepClone();
                }
            }
            catch (Exception e) when (e is ModelFormatException or IOException or UnauthorizedAccessException)
            {
                item["manifest_error"] = e.Message;
            }
            list.Add(item);
        }
        return Results.Json(StatusEndpoints.Redact(new JsonObject { ["current"] = current, ["serving"] = serving, ["rollback_target"] = previous, ["versions"] = list }));
    }

    private static bool Stored(ModelStore store, string version)
    {
        try
        {
            return store.Versions().Contains(version);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Unreadable right now: the promotion reports it.
            return true;
        }
    }
}
