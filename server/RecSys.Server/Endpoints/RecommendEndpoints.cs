using RecSys.Server.Contracts;
using RecSys.Server.Hosting;

namespace RecSys.Server.Endpoints;

/// <summary>The original design's recommendation endpoints, same paths, parameters and fields.</summary>
internal static class RecommendEndpoints
{
    public const string SourceHeader = "X-Recommendation-Source";

    public static void Map(WebApplication app)
    {
        var group = app.MapGroup("/recommend");
        group.MapGet("/user/{user_id}/ml", PersonalAsync).WithName("PersonalRecommendations")
            .WithSummary("Personal ML recommendations with metadata (fold-in or popularity for cold users)");
        group.MapGet("/similar/{track_id}", Similar).WithName("SimilarTracks")
            .WithSummary("Tracks similar to a track (cosine over item factors)");
        group.MapGet("/user/{user_id}", Legacy).WithName("LegacyRecommendations")
            .WithSummary("Legacy pseudo-random recommendations, stable for a user within a UTC day");
    }

    private static async Task<IResult> PersonalAsync(HttpContext http, string user_id, string? limit, RecommendationService service, ServerOptions options, ModelHost host, ResponseCache cache)
    {
        if (!ApiParameters.TryId(user_id, "user_id", out long id, out var problem)) return problem!;
        if (!ApiParameters.TryLimit(limit, 20, options.MaxLimit, out int n, out problem)) return problem!;
        var serving = host.Current;
        if (serving is not null && cache.TryGet(serving, ResponseCache.Personal, id, n, out byte[] cached))
        {
            return Cached(http, cached, RecommendationSource.Ml);
        }
        var (items, source) = await service.ForUserAsync(id, n, http.RequestAborted);
        http.Response.Headers[SourceHeader] = source;
        ServerMetrics.Sources.WithLabels(source).Inc();
        // Only the ML answer is a pure function of the model; fold-in and popularity depend on plays that arrive later.
        if (source == RecommendationSource.Ml && serving is not null && cache.Enabled)
        {
            byte[] body = RecommendationJson.Serialize(items);
            cache.Add(serving, ResponseCache.Personal, id, n, body);
            return Results.Bytes(body, JsonContentType);
        }
        return Results.Bytes(RecommendationJson.Serialize(items), JsonContentType);
    }

    private const string JsonContentType = "application/json; charset=utf-8";

    private static IResult Cached(HttpContext http, byte[] body, string source)
    {
        http.Response.Headers[SourceHeader] = source;
        ServerMetrics.Sources.WithLabels(source).Inc();
        return Results.Bytes(body, JsonContentType);
    }

    private static IResult Similar(string track_id, string? limit, RecommendationService service, ServerOptions options, ModelHost host, ResponseCache cache)
    {
        if (!ApiParameters.TryId(track_id, "track_id", out long id, out var problem)) return problem!;
        if (!ApiParameters.TryLimit(limit, 10, options.MaxLimit, out int n, out problem)) return problem!;
        var serving = host.Current;
        if (serving is not null && cache.TryGet(serving, ResponseCache.Similar, id, n, out byte[] cached))
        {
            return Results.Bytes(cached, JsonContentType);
        }
        if (serving is null)
        {
            return Results.Problem(title: "No model loaded", detail: "similar tracks need a trained model; see /model", statusCode: StatusCodes.Status503ServiceUnavailable);
        }
        var items = service.Similar(id, n);
        if (items is null)
        {
            return Results.Problem(title: "Unknown track", detail: $"track {id} is not in the model", statusCode: StatusCodes.Status404NotFound,
                extensions: new Dictionary<string, object?> { ["parameter"] = "track_id" });
        }
        byte[] body = RecommendationJson.Serialize(items);
        cache.Add(serving, ResponseCache.Similar, id, n, body);
        return Results.Bytes(body, JsonContentType);
    }

    private static IResult Legacy(HttpContext http, string user_id, string? limit, RecommendationService service, ServerOptions options)
    {
        if (!ApiParameters.TryId(user_id, "user_id", out long id, out var problem)) return problem!;
        if (!ApiParameters.TryLimit(limit, 20, options.MaxLimit, out int n, out problem)) return problem!;
        http.Response.Headers[SourceHeader] = RecommendationSource.Legacy;
        return Results.Bytes(RecommendationJson.Serialize(service.Legacy(id, n)), JsonContentType);
    }
}
