using System.Globalization;
using System.Text.Json.Nodes;
using RecSys.Engine.Data;
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

    public static void Map(WebApplication app)
    {
        app.MapGet("/users/{user_id}/plays", PlaysAsync).WithName("ListenerPlays")
            .WithSummary("A listener's qualified plays: those since the model's training first (most recent first), then the ones it was trained on (most played first); ?limit=50&offset=0");
        app.MapGet("/users/random", (ModelHost host) => host.Current is { Model.UserCount: > 0 } serving
            ? Results.Json(new JsonObject { ["user_id"] = serving.Model.UserIds[Random.Shared.Next(serving.Model.UserCount)] })
            : Results.Problem(title: "No model", detail: "no model is serving yet, so no listener is known", statusCode: StatusCodes.Status503ServiceUnavailable))
            .WithName("RandomListener").WithSummary("A listener the serving model knows, picked at random");
    }

    private static async Task<IResult> PlaysAsync(HttpContext http, string user_id, ModelHost host, LivePlays live, IUserPlays stored, ServerOptions options)
    {
        if (!ApiParameters.TryId(user_id, "user_id", out long id, out var problem)) return problem!;
        var query = http.Request.Query;
        string? rawLimit = query["limit"].Count > 0 ? query["limit"].ToString() : null;
        if (!ApiParameters.TryLimit(rawLimit, DefaultLimit, options.MaxLimit, out int limit, out problem)) return problem!;
        int offset = 0;
        if (query["offset"].Count > 0 && !(int.TryParse(query["offset"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out offset) && offset >= 0))
        {
            return ApiParameters.Invalid("offset", $"offset must be an integer in 0..{int.MaxValue}, got '{Shorten(query["offset"].ToString())}'");
        }

        var serving = host.Current;
        var rows = new List<(long Track, float Plays, bool SinceTraining)>();
        var listed = new Dictionary<long, int>();
        if (serving is not null && live.Find(id) is { } user)
        {
            foreach (var (track, plays) in user.RecentAfter(live.Through(serving)))
            {
                listed[track] = rows.Count;
                rows.Add((track, plays, true));
            }
        }
        var earlier = new List<(long Track, float Plays)>();
        string source;
        int row = serving?.Model.UserIndex.IndexOf(id) ?? -1;
        bool known = row >= 0;
        if (known && serving!.Model.UserItems is { } items)
        {
            source = "model";
            var tracks = items.RowIndices(row);
            var values = items.RowValues(row);
            for (int i = 0; i < tracks.Length; i++) earlier.Add((serving.Model.TrackIds[tracks[i]], values[i]));
        }
        else if (!known)
        {
            var fromStore = await stored.GetAsync(id, http.RequestAborted);
            source = fromStore.Count > 0 ? "database" : "none";
            earlier.AddRange(fromStore);
        }
        else
        {
            // A model file without its training matrix (the original design's numpy file).
            source = "none";
        }
        earlier.Sort((a, b) => b.Plays != a.Plays ? b.Plays.CompareTo(a.Plays) : a.Track.CompareTo(b.Track));
        foreach (var (track, plays) in earlier)
        {
            if (listed.TryGetValue(track, out int at)) rows[at] = (track, rows[at].Plays + plays, true);
            else rows.Add((track, plays, false));
        }

        var catalog = host.Catalog;
        var page = new JsonArray();
        foreach (var (track, plays, since) in rows.Skip(offset).Take(limit))
        {
            var info = catalog.Find(track);
            page.Add(new JsonObject
            {
                ["track_id"] = track,
                ["plays"] = plays,
                ["since_training"] = since,
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
            ["known_to_model"] = known,
            ["model_version"] = serving?.Version,
            // Where the plays before the model come from; "events" when only plays since it are known.
            ["source"] = source == "none" && rows.Count > 0 ? "events" : source,
            ["total"] = rows.Count,
            ["offset"] = offset,
            ["limit"] = limit,
            ["plays"] = page,
        });
    }

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
