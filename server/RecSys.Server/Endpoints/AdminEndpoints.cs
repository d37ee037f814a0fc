using System.Text;
using System.Text.Json.Nodes;
using RecSys.Server.Configuration;
using RecSys.Server.Hosting;
using RecSys.Server.Lifecycle;

namespace RecSys.Server.Endpoints;

/// <summary>POST /admin/reload and /admin/train and the experiments' API, behind a bearer token; not mapped at all without one.</summary>
internal static class AdminEndpoints
{
    public static void Map(WebApplication app, ServerOptions options)
    {
        if (string.IsNullOrEmpty(options.AdminToken)) return;
        byte[] expected = Encoding.UTF8.GetBytes(options.AdminToken);
        var admin = app.MapGroup("/admin").AddEndpointFilter(async (context, next) =>
        {
            if (BearerToken.Matches(context.HttpContext, expected)) return await next(context);
            // RFC 9110: a 401 names the scheme it wants.
            context.HttpContext.Response.Headers.WWWAuthenticate = "Bearer";
            return Results.Problem(
                title: "Unauthorized", detail: "a valid 'Authorization: Bearer <token>' header is required",
                statusCode: StatusCodes.Status401Unauthorized);
        });

        admin.MapPost("/reload", async (ModelHost host, CatalogService catalog) =>
        {
            // Metadata first, so the model that comes next is bound to the catalog that describes it.
            await catalog.ReloadAsync("admin reload", CancellationToken.None);
            // Loading a model and its index takes a while for large catalogs: keep it off the socket threads.
            var outcome = await Task.Run(host.ReloadCurrent);
            return outcome.Ok
                ? Results.Json(new JsonObject { ["ok"] = true, ["version"] = outcome.Version, ["message"] = outcome.Message })
                : Results.Problem(title: "Reload failed", detail: outcome.Message + " (the previous model keeps serving)", statusCode: StatusCodes.Status409Conflict);
        }).WithName("AdminReload");

        admin.MapPost("/train", (TrainingService training) => training.TryStart("admin", out _)
            ? Results.Json(new JsonObject { ["started"] = true, ["status"] = "/model" }, statusCode: StatusCodes.Status202Accepted)
            : Results.Problem(title: "Training already running", detail: "one training run at a time; see /model", statusCode: StatusCodes.Status409Conflict))
            .WithName("AdminTrain");

        VersionEndpoints.MapAdmin(admin);
        ExperimentEndpoints.Map(admin);
    }
}
