using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using RecSys.Server.Configuration;
using RecSys.Server.Events;
using RecSys.Server.Hosting;

namespace RecSys.Server.Endpoints;

/// <summary>
/// A listener's qualified plays, paged (the console's listener page: what led to the recommendations),
/// and a random listener the model knows.
/// </summary>
internal static class ListenerEndpoints
{
    private const int DefaultLimit = 50;

    public static void Map(WebApplication app, ServerOptions options)
    {
        byte[]? token = string.IsNullOrEmpty(options.AdminToken) ? null : Encoding.UTF8.GetBytes(options.AdminToken);
        app.MapGet("/users/{user_id}/plays", (HttpContext http, string user_id, ModelHost host, LivePlays live, IUserPlays stored) =>
                Allowed(http, token) is { } refused ? Task.FromResult(refused) : PlaysAsync(http, user_id, host, live, stored, options))
            .WithName("ListenerPlays")
            .WithSummary("A listener's qualified plays: those since the model's training first (most recent first), then the ones before (most played first); ?limit=50&offset=0. " +
                "A listener's history is personal: with an admin token configured it needs the token, without one only loopback clients get it");
        app.MapGet("/users/random", (ModelHost host) => host.Current is not { } serving
                ? Results.Problem(title: "No model", detail: "no model is serving yet, so no listener is known", statusCode: StatusCodes.Status503ServiceUnavailable)
                : serving.Model.UserCount == 0
                    ? Results.Problem(title: "No listener", detail: $"the serving model {serving.Version} has no listeners", statusCode: StatusCodes.Status404NotFound)
                    : Results.Json(new JsonObject { ["user_id"] = serving.Model.UserIds[Random.Shared.Next(serving.Model.UserCount)] }))
            .WithName("RandomListener").WithSummary("A listener the serving model knows, picked at random");
    }

    /// <summary>
    /// Null when the caller may read listeners' histories: the admin token where one is configured;
    /// where none is (a local demo), a client on this machine only, never one on the network.
    /// </summary>
    internal static IResult? Allowed(HttpContext http, byte[]? token)
    {
        if (token is not null)
        {
            if (BearerToken.Matches(http, token)) return null;
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return Results.Problem(title: "Unauthorized", detail: "a listener's plays need the admin token: 'Authorization: Bearer <token>'",
                statusCode: StatusCodes.Status401Unauthorized);
        }
        if (http.Connection.RemoteIpAddress is { } remote && IPAddress.IsLoopback(remote)) return null;
        return Results.Problem(title: "Forbidden",
            detail: "a listener's plays are personal: this server has no admin token (RecSys:AdminToken), so only clients on its own machine may read them",
            statusCode: StatusCodes.Status403Forbidden);
    }

    private static async Task<IResult> PlaysAsync(HttpContext http, string user_id, ModelHost host, LivePlays live, IUserPlays stored, ServerOptions options)
    {
        if (!ApiParameters.TryId(user_id, "user_id", out long id, out var problem)) return problem!;
        var query = http.Request.Query;
        if (!ApiParameters.TryLimit(query["limit"].Count > 0 ? query["limit"].ToString() : null, DefaultLimit, options.MaxLimit, out int limit, out problem)) return problem!;
        if (!ApiParameters.TryOffset(query["offset"].Count > 0 ? query["offset"].ToString() : null, out int offset, out problem)) return problem!;

        var serving = host.Current;
        IReadOnlyList<(long Track, int Plays)> recent = serving is not null && live.Find(id) is { } user ? user.RecentAfter(live.Through(serving)) : [];
        int row = serving?.Model.UserIndex.IndexOf(id) ?? -1;
        var earlier = new List<(long Track, float Plays)>();
        string source = "none";
        bool fromTable = false;
        if (row >= 0 && serving!.Model.UserItems is { } items)
        {
            source = "model";
            var tracks = items.RowIndices(row);
            var values = items.RowValues(row);
            for (int i = 0; i < tracks.Length; i++) earlier.Add((serving.Model.TrackIds[tracks[i]], values[i]));
        }
        else if (row < 0)
        {
            // A listener the model does not know: the plays table, which holds the events too.
            earlier.AddRange(await stored.GetAsync(id, http.RequestAborted));
            fromTable = !string.IsNullOrWhiteSpace(options.Db);
            if (earlier.Count > 0) source = "database";
        }
        // Otherwise a model file without its training matrix (the original design's numpy file).
        var history = ListenerHistory.Merge(recent, earlier, fromTable);
        if (source == "none" && history.Count > 0) source = "events";

        var catalog = host.Catalog;
        var page = new JsonArray();
        foreach (var entry in history.Skip(offset).Take(limit))
        {
            var info = catalog.Find(entry.TrackId);
            page.Add(new JsonObject
            {
                ["track_id"] = entry.TrackId,
                ["plays"] = entry.Plays,
                ["since_training"] = entry.SinceTraining,
                ["title"] = info?.Title,
                ["artist_name"] = info?.ArtistName,
                ["artist_id"] = info?.ArtistId,
                ["album_id"] = info?.AlbumId,
                ["duration_ms"] = info?.DurationMs,
                ["preview_url"] = info?.PreviewUrl,
                ["cover_url"] = info?.CoverUrl,
            });
        }
        return Results.Json(new JsonObject
        {
            ["user_id"] = id,
            ["known_to_model"] = row >= 0,
            ["model_version"] = serving?.Version,
            ["source"] = source,
            ["total"] = history.Count,
            ["offset"] = offset,
            ["limit"] = limit,
            ["plays"] = page,
        });
    }
}
