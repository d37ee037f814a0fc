using System.Buffers;
using System.Runtime.CompilerServices;
using RecSys.Engine.Experiments;
using RecSys.Engine.Recommend;
using RecSys.Server.Configuration;
using RecSys.Server.Metadata;
using RecSys.Server.Contracts;
using RecSys.Server.Experiments;
using RecSys.Server.Hosting;

namespace RecSys.Server.Endpoints;

/// <summary>The original design's recommendation endpoints, same paths, parameters and fields.</summary>
internal static class RecommendEndpoints
{
    public const string SourceHeader = "X-Recommendation-Source";

    /// <summary>The original design's default limits.</summary>
    private const int PersonalLimit = 20, SimilarLimit = 10;

    public static void Map(WebApplication app)
    {
        // The services are singletons, taken here once: as handler parameters they would be resolved
        // per request from a request scope (three allocations a request).
        var service = app.Services.GetRequiredService<RecommendationService>();
        var options = app.Services.GetRequiredService<ServerOptions>();
        var host = app.Services.GetRequiredService<ModelHost>();
        var cache = app.Services.GetRequiredService<ResponseCache>();
        var experiments = app.Services.GetRequiredService<ExperimentService>();
        var group = app.MapGroup("/recommend");
        group.MapGet("/user/{user_id}/ml", (HttpContext http, string user_id) => PersonalAsync(http, user_id, ApiParameters.LimitQuery(http.Request), service, options, host, cache, experiments))
            .WithName("PersonalRecommendations").WithLimit(PersonalLimit)
            .WithSummary("Personal ML recommendations with metadata (fold-in or popularity for cold users)");
        group.MapGet("/similar/{track_id}", (HttpContext http, string track_id) => Similar(http, track_id, ApiParameters.LimitQuery(http.Request), service, options, host, cache))
            .WithName("SimilarTracks").WithLimit(SimilarLimit)
            .WithSummary("Tracks similar to a track (cosine over item factors)");
        group.MapGet("/user/{user_id}", (HttpContext http, string user_id) => LegacyAsync(http, user_id, ApiParameters.LimitQuery(http.Request), service, options, host, cache, experiments))
            .WithName("LegacyRecommendations").WithLimit(PersonalLimit)
            .WithSummary("Legacy pseudo-random recommendations, stable for a user within a UTC day");
    }

    private static ValueTask<IResult> PersonalAsync(HttpContext http, string user_id, string? limit, RecommendationService service, ServerOptions options, ModelHost host, ResponseCache cache, ExperimentService experiments)
    {
        if (!ApiParameters.TryId(user_id, "user_id", out long id, out var problem)) return ValueTask.FromResult(problem!);
        if (!ApiParameters.TryLimit(limit, PersonalLimit, options.MaxLimit, out int n, out problem)) return ValueTask.FromResult(problem!);
        if (experiments.Assign(ExperimentDefinition.PersonalEndpoint, id) is { } assigned)
        {
            return ArmAsync(http, assigned, id, n, service, host, cache, experiments);
        }
        return MlAsync(http, id, n, service, host, cache, null);
    }

    /// <summary>
    /// The ML answer (from the response cache when it may be); with <paramref name="shown"/>, the tracks
    /// answered are also put there (an experiment's exposure).
    /// </summary>
    private static async ValueTask<IResult> MlAsync(HttpContext http, long id, int n, RecommendationService service, ModelHost host, ResponseCache cache, StrongBox<long[]>? shown)
    {
        var serving = host.Current;
        int clears = cache.Clears;
        bool cacheable = service.Cacheable(id);
        if (serving is not null && cacheable && TryCached(cache, serving, host.Catalog, ResponseCache.Personal, id, n, out var cached))
        {
            http.Response.Headers[SourceHeader] = RecommendationSource.Ml;
            ServerMetrics.Sources.WithLabels(RecommendationSource.Ml).Inc();
            if (shown is not null) shown.Value = TrackIds(t_ranking!.WrittenSpan, serving.Model.TrackIds);
            return Send(http, cached);
        }
        var (ranked, source) = await service.RankForUserAsync(id, n, http.RequestAborted);
        http.Response.Headers[SourceHeader] = source;
        if (shown is not null) shown.Value = TrackIds(ranked);
        ServerMetrics.Sources.WithLabels(source).Inc();
        // Only the ML answer of a user without live plays is a pure function of the model; fold-in and popularity depend on plays that arrive later.
        // A user with plays since training is answered from them, not from the cache, until the next model.
        return source == RecommendationSource.Ml && cacheable && service.Cacheable(id)
            ? RespondAndKeep(http, cache, host, serving, ResponseCache.Personal, id, n, ranked, clears)
            : Respond(http, ranked);
    }

    private const string JsonContentType = "application/json; charset=utf-8";

    [ThreadStatic] private static ArrayBufferWriter<byte>? t_body;

    /// <summary>
    /// This thread's response buffer, emptied. Take it only where no await follows before
    /// <see cref="Send"/>: after an await the request may run on another thread.
    /// </summary>
    private static ArrayBufferWriter<byte> Body()
    {
        var buffer = t_body ??= new ArrayBufferWriter<byte>(16 * 1024);
        buffer.ResetWrittenCount();
        return buffer;
    }

    [ThreadStatic] private static ArrayBufferWriter<byte>? t_ranking;

    /// <summary>
    /// A cached ranking for the request, written as JSON with the current catalog's metadata into
    /// <paramref name="body"/>. The cache keeps rankings with their scores as text
    /// (<see cref="CachedRanking"/>, ~15 bytes a track), not JSON (~250 bytes a track): fifteen times
    /// the answers in the same memory, and metadata is never stale.
    /// </summary>
    private static bool TryCached(ResponseCache cache, ServingModel model, TrackCatalog catalog, int kind, long id, int n, out ArrayBufferWriter<byte> body)
    {
        var ranking = Scratch();
        body = Body();
        if (!cache.TryCopy(model, kind, id, n, ranking)) return false;
        model.Fields(catalog).WriteJson(body, ranking.WrittenSpan);
        return true;
    }

    /// <summary>This thread's buffer for a ranking on its way into or out of the cache, emptied.</summary>
    private static ArrayBufferWriter<byte> Scratch()
    {
        var ranking = t_ranking ??= new ArrayBufferWriter<byte>(4096);
        ranking.ResetWrittenCount();
        return ranking;
    }

    /// <summary>Writes the answer into the response (built in the per-thread buffer and copied once: nothing is allocated per request).</summary>
    private static IResult Respond(HttpContext http, RankedTracks ranked)
    {
        var buffer = Body();
        ranked.WriteJson(buffer);
        return Send(http, buffer);
    }

    /// <summary>
    /// Writes a computed answer and caches its ranking (scores formatted once, for both) if
    /// <paramref name="computedOn"/> is still the serving model: one finished on a model swapped out
    /// meanwhile would empty the new model's cache.
    /// </summary>
    private static IResult RespondAndKeep(HttpContext http, ResponseCache cache, ModelHost host, ServingModel? computedOn, int kind, long id, int n, RankedTracks ranked, int clears)
    {
        var ranking = Scratch();
        CachedRanking.Encode(ranked.Ranked, ranking);
        // Only answers over the model's own tracks: one holding a track folded in since training is not kept.
        if (computedOn is not null && ReferenceEquals(computedOn, host.Current) && ReferenceEquals(ranked.Tracks.TrackIds, computedOn.Model.TrackIds))
        {
            cache.Add(computedOn, kind, id, n, ranking.WrittenSpan, clears);
        }
        var body = Body();
        ranked.Tracks.WriteJson(body, ranking.WrittenSpan);
        return Send(http, body);
    }

    /// <summary>The buffer as the JSON response, with its length (no chunked encoding).</summary>
    private static IResult Send(HttpContext http, ArrayBufferWriter<byte> buffer)
    {
        var response = http.Response;
        response.ContentType = JsonContentType;
        response.ContentLength = buffer.WrittenCount;
        response.BodyWriter.Write(buffer.WrittenSpan);
        return Results.Empty;
    }

    private static IResult Similar(HttpContext http, string track_id, string? limit, RecommendationService service, ServerOptions options, ModelHost host, ResponseCache cache)
    {
        if (!ApiParameters.TryId(track_id, "track_id", out long id, out var problem)) return problem!;
        if (!ApiParameters.TryLimit(limit, SimilarLimit, options.MaxLimit, out int n, out problem)) return problem!;
        var serving = host.Current;
        int clears = cache.Clears;
        if (serving is not null && TryCached(cache, serving, host.Catalog, ResponseCache.Similar, id, n, out var cached))
        {
            return Send(http, cached);
        }
        if (serving is null)
        {
            return Results.Problem(title: "No model loaded", detail: "similar tracks need a trained model; see /model", statusCode: StatusCodes.Status503ServiceUnavailable);
        }
        var ranked = service.RankSimilar(id, n);
        if (ranked is null)
        {
            return Results.Problem(title: "Unknown track", detail: $"track {id} is not in the model (nor played by enough listeners since its training to have factors)", statusCode: StatusCodes.Status404NotFound,
                extensions: new Dictionary<string, object?> { ["parameter"] = "track_id" });
        }
        return RespondAndKeep(http, cache, host, serving, ResponseCache.Similar, id, n, ranked.Value, clears);
    }

    private static ValueTask<IResult> LegacyAsync(HttpContext http, string user_id, string? limit, RecommendationService service, ServerOptions options, ModelHost host, ResponseCache cache, ExperimentService experiments)
    {
        if (!ApiParameters.TryId(user_id, "user_id", out long id, out var problem)) return ValueTask.FromResult(problem!);
        if (!ApiParameters.TryLimit(limit, PersonalLimit, options.MaxLimit, out int n, out problem)) return ValueTask.FromResult(problem!);
        if (experiments.Assign(ExperimentDefinition.LegacyEndpoint, id) is { } assigned)
        {
            return ArmAsync(http, assigned, id, n, service, host, cache, experiments);
        }
        http.Response.Headers[SourceHeader] = RecommendationSource.Legacy;
        return ValueTask.FromResult(Respond(http, service.RankLegacy(id, n)));
    }

    public const string ExperimentHeader = "X-Experiment";
    public const string ArmHeader = "X-Arm";
    public const string RecommendationIdHeader = "X-Recommendation-Id";

    /// <summary>
    /// A request that carries this header (any value) gets the arm's answer but is not recorded as an
    /// exposure: the web console sends it, so that someone looking at a listener does not count as
    /// the listener seeing recommendations.
    /// </summary>
    public const string PreviewHeader = "X-Recommendation-Preview";

    /// <summary>
    /// The answer of an experiment's arm, whichever endpoint asked: what its strategy serves, with the
    /// experiment headers, recorded as an exposure unless the user is a QA override or outside the
    /// exposure sample.
    /// </summary>
    private static async ValueTask<IResult> ArmAsync(HttpContext http, ArmAssignment assigned, long id, int n,
        RecommendationService service, ModelHost host, ResponseCache cache, ExperimentService experiments)
    {
        var recommendationId = Guid.CreateVersion7();
        var headers = http.Response.Headers;
        headers[ExperimentHeader] = assigned.Experiment.Id;
        headers[ArmHeader] = assigned.Definition.Name;
        headers[RecommendationIdHeader] = recommendationId.ToString("N");
        var strategy = assigned.Strategy;
        IResult result;
        long[] tracks;
        switch (strategy.Kind)
        {
            case ArmStrategy.Kinds.Ml when assigned.Definition.ExcludeHeard:
                var shown = new StrongBox<long[]>([]);
                result = await MlAsync(http, id, n, service, host, cache, shown);
                tracks = shown.Value!;
                break;
            case ArmStrategy.Kinds.Ml:
            {
                // Heard tracks included: not the answer the response cache keeps.
                var (ranked, source) = await service.RankForUserAsync(id, n, http.RequestAborted, excludeHeard: false);
                headers[SourceHeader] = source;
                result = Respond(http, ranked);
                tracks = TrackIds(ranked);
                break;
            }
            case ArmStrategy.Kinds.Popularity:
            {
                var ranked = service.RankPopular(id, n);
                headers[SourceHeader] = host.Current is null ? RecommendationSource.Legacy : RecommendationSource.Popularity;
                result = Respond(http, ranked);
                tracks = TrackIds(ranked);
                break;
            }
            case ArmStrategy.Kinds.Legacy:
            {
                var ranked = service.RankLegacy(id, n);
                headers[SourceHeader] = RecommendationSource.Legacy;
                result = Respond(http, ranked);
                tracks = TrackIds(ranked);
                break;
            }
            default:
            {
                if (experiments.Challenger(strategy.ModelVersion!) is not { } model)
                {
                    return Results.Problem(title: "Experiment arm not ready", detail: $"model version {strategy.ModelVersion} of arm {assigned.Definition.Name} is loading",
                        statusCode: StatusCodes.Status503ServiceUnavailable);
                }
                var (ranked, source) = await service.RankForUserAsync(id, n, http.RequestAborted, model, assigned.Definition.ExcludeHeard);
                headers[SourceHeader] = source;
                result = Respond(http, ranked);
                tracks = TrackIds(ranked);
                break;
            }
        }
        if (assigned.Logged && !http.Request.Headers.ContainsKey(PreviewHeader)) experiments.Record(assigned, recommendationId, id, tracks, host.Catalog);
        return result;
    }

    private static long[] TrackIds(RankedTracks ranked)
    {
        var ids = new long[ranked.Count];
        for (int i = 0; i < ids.Length; i++) ids[i] = ranked.TrackId(i);
        return ids;
    }

    /// <summary>The track ids of a ranking as the response cache keeps it.</summary>
    private static long[] TrackIds(ReadOnlySpan<byte> encoded, long[] modelTrackIds)
    {
        var ids = new List<long>(32);
        for (int at = 0; at < encoded.Length;) ids.Add(modelTrackIds[CachedRanking.Next(encoded, ref at, out _, out _)]);
        return [.. ids];
    }
}
