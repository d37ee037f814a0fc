using Microsoft.Extensions.DependencyInjection;
using System.Net;
using RecSys.Engine.Events;
using static RecSys.Tests.Server.PlayEvents;

namespace RecSys.Tests.Server;

/// <summary>POST /events/plays on the embedded log, through Kestrel.</summary>
public sealed class EventEndpointTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private TestServer S => fixture.Server;

    private List<EventLog.Record> Logged()
    {
        var log = S.App.Services.GetRequiredService<RecSys.Server.Events.EventIngest>().Log!;
        return log.Read().ToList();
    }

    private static string NewId() => Guid.NewGuid().ToString("N");

    [Fact]
    public async Task A_batch_with_one_bad_event_is_refused_whole_with_every_problem_listed()
    {
        int before = Logged().Count;
        string bad = """{"event_id":"x","user_id":-1,"track_id":2,"milestone":150,"is_completed":false}""";
        var (status, body, r) = await PostAsync(S.Http, Array([Json(NewId(), 1, 2), bad, Json(NewId(), 1, 3)]));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType!.MediaType);
        var errors = body.GetProperty("errors").EnumerateArray().ToList();
        Assert.Equal(2, errors.Count);
        Assert.All(errors, e => Assert.Equal(1, e.GetProperty("index").GetInt32()));
        Assert.Equal(["user_id", "milestone"], errors.Select(e => e.GetProperty("field").GetString()));
        Assert.Contains("nothing of the batch was stored", body.GetProperty("detail").GetString());
        Assert.Equal(before, Logged().Count);

        (status, body, _) = await PostAsync(S.Http, "[{\"event_id\":", "application/json");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("malformed JSON", body.GetProperty("detail").GetString());
        (status, _, _) = await PostAsync(S.Http, Array([Json(NewId(), 1, 2)]), "text/plain");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, status);
        Assert.Equal(before, Logged().Count);
    }

    [Fact]
    public async Task Ndjson_is_accepted_and_a_bad_line_is_named()
    {
        string a = NewId(), b = NewId();
        var (status, body, _) = await PostAsync(S.Http, $"{Json(a, 11, 2)}\n\n{Json(b, 11, 3)}\n", "application/x-ndjson");
        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal(2, body.GetProperty("stored").GetInt32());
        Assert.Equal(2, Logged().Count(r => r.Event.EventId == a || r.Event.EventId == b));

        (status, body, _) = await PostAsync(S.Http, $"{Json(NewId(), 11, 2)}\nnot json\n", "application/x-ndjson");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        var error = Assert.Single(body.GetProperty("errors").EnumerateArray());
        Assert.Equal((1, 2), (error.GetProperty("index").GetInt32(), error.GetProperty("line").GetInt32()));
    }

    [Fact]
    public async Task A_retried_batch_is_stored_once()
    {
        var batch = Enumerable.Range(0, 5).Select(i => Json(NewId(), 21, 100 + i)).ToArray();
        Assert.Equal((5, 0), await AcceptedAsync(S.Http, batch));
        Assert.Equal((0, 5), await AcceptedAsync(S.Http, batch));
        // A retry inside a larger batch: only the new event is stored.
        Assert.Equal((1, 5), await AcceptedAsync(S.Http, [.. batch, Json(NewId(), 21, 200)]));
        var ids = batch.Select(e => System.Text.Json.JsonDocument.Parse(e).RootElement.GetProperty("event_id").GetString()).ToHashSet();
        Assert.Equal(5, Logged().Count(r => ids.Contains(r.Event.EventId)));
    }

    [Fact]
    public async Task A_known_users_next_answer_reflects_one_qualified_play_and_never_holds_that_track()
    {
        var serving = S.Host.Current!;
        var model = serving.Model;
        int row = Enumerable.Range(0, model.UserCount).Reverse().First(u => model.UserItems!.RowLength(u) >= 10);
        long user = model.UserIds[row];
        var (source, before) = await PersonalAsync(S.Http, user);
        Assert.Equal("ml", source);
        // A play that does not qualify changes nothing (and the cached answer keeps serving).
        await AcceptedAsync(S.Http, Json(NewId(), user, before[0], milestone: 40, completed: false));
        Assert.Equal(before, (await PersonalAsync(S.Http, user)).Tracks);

        await AcceptedAsync(S.Http, Json(NewId(), user, before[0], milestone: 90, completed: false));
        var (sourceAfter, after) = await PersonalAsync(S.Http, user);
        Assert.Equal("ml", sourceAfter);
        Assert.DoesNotContain(before[0], after);
        Assert.NotEqual(before, after);
        // The user's factors were recomputed (exact fold-in of their row plus the play), not just filtered.
        var live = S.App.Services.GetRequiredService<RecSys.Server.Events.LivePlays>();
        var answer = live.Answer(serving, live.Find(user)!)!;
        Assert.Contains(model.TrackIndex.IndexOf(before[0]), answer.Heard);
        Assert.Equal(model.UserItems!.RowLength(row) + 1, answer.Tracks);
        var expected = serving.Recommender.FoldIn(
            [.. model.UserItems.RowIndices(row), model.TrackIndex.IndexOf(before[0])], [.. model.UserItems.RowValues(row), 1f]);
        Tolerance.AssertClose(expected, answer.Vector, 1e-5, 1e-4, "live factors");
        for (int i = 0; i < 3; i++) Assert.DoesNotContain(before[0], (await PersonalAsync(S.Http, user, 100)).Tracks);
    }

    [Fact]
    public async Task A_new_user_is_folded_in_from_events_and_the_cold_start_rule_counts_them()
    {
        var model = S.Host.Current!.Model;
        long user = 5_000_000 + Random.Shared.Next(1_000_000);
        Assert.Equal("popularity", (await PersonalAsync(S.Http, user)).Source);
        long[] played = model.TrackIds.Take(3).ToArray();
        await AcceptedAsync(S.Http, played.Select(t => Json(NewId(), user, t)).ToArray());
        var (source, tracks) = await PersonalAsync(S.Http, user);
        Assert.Equal("fold-in", source);
        Assert.Empty(tracks.Intersect(played));

        // A known user below the cold-start threshold becomes an ML user once their plays reach it.
        int row = Enumerable.Range(0, model.UserCount).FirstOrDefault(u => model.UserItems!.RowLength(u) is > 0 and < 5, -1);
        if (row < 0) return;
        long known = model.UserIds[row];
        Assert.Equal("fold-in", (await PersonalAsync(S.Http, known)).Source);
        var unheard = model.TrackIds.Where((_, i) => !model.UserItems!.RowIndices(row).Contains(i)).Take(5 - model.UserItems!.RowLength(row)).ToArray();
        await AcceptedAsync(S.Http, unheard.Select(t => Json(NewId(), known, t)).ToArray());
        Assert.Equal("ml", (await PersonalAsync(S.Http, known)).Source);
    }

    [Fact]
    public async Task Popularity_counts_listeners_from_events()
    {
        var serving = S.Host.Current!;
        var model = serving.Model;
        var popularity = model.ItemPopularity!;
        int least = Enumerable.Range(0, model.ItemCount).MinBy(i => popularity[i]);
        long track = model.TrackIds[least];
        long cold = 9_000_000_000;
        Assert.NotEqual(track, (await PersonalAsync(S.Http, cold, 1)).Tracks[0]);
        int listeners = (int)popularity.Max() + 5;
        for (int chunk = 0; chunk < listeners; chunk += 500)
        {
            await AcceptedAsync(S.Http, Enumerable.Range(chunk, Math.Min(500, listeners - chunk)).Select(u => Json(NewId(), 8_000_000_000 + u, track)).ToArray());
        }
        // The ranking is rebuilt in the background at most once a second.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        long first;
        while ((first = (await PersonalAsync(S.Http, cold, 1)).Tracks[0]) != track && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.Equal(track, first);
    }

    [Fact]
    public async Task A_new_track_gets_factors_after_enough_listeners_and_enters_similar_and_model()
    {
        var serving = S.Host.Current!;
        var model = serving.Model;
        const long track = 99_999_001;
        Assert.Equal(HttpStatusCode.NotFound, (await S.Http.GetAsync($"/recommend/similar/{track}")).StatusCode);
        // Listeners the model knows, who all heard the same popular track: the new one should sit near it.
        int anchor = Enumerable.Range(0, model.ItemCount).MaxBy(i => model.ItemPopularity![i]);
        var listeners = Enumerable.Range(0, model.UserCount).Where(u => model.UserItems!.RowIndices(u).Contains(anchor)).Take(S.Options.Events.NewTrackListeners).ToArray();
        Assert.Equal(S.Options.Events.NewTrackListeners, listeners.Length);
        await AcceptedAsync(S.Http, listeners.Take(listeners.Length - 1).Select(u => Json(NewId(), model.UserIds[u], track)).ToArray());
        await Task.Delay(200);
        Assert.Equal(HttpStatusCode.NotFound, (await S.Http.GetAsync($"/recommend/similar/{track}")).StatusCode);
        await AcceptedAsync(S.Http, Json(NewId(), model.UserIds[listeners[^1]], track));

        var deadline = DateTime.UtcNow.AddSeconds(10);
        HttpResponseMessage r;
        while ((r = await S.Http.GetAsync($"/recommend/similar/{track}?limit=5")).StatusCode == HttpStatusCode.NotFound && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var similar = System.Text.Json.JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.EnumerateArray().Select(e => e.GetProperty("track_id").GetInt64()).ToArray();
        Assert.Equal(5, similar.Length);
        Assert.DoesNotContain(track, similar);

        var model_ = System.Text.Json.JsonDocument.Parse(await S.Http.GetStringAsync("/model")).RootElement.GetProperty("events").GetProperty("live_tracks");
        Assert.Contains(model_.GetProperty("tracks").EnumerateArray(), t => t.GetProperty("track_id").GetInt64() == track && t.GetProperty("listeners").GetInt32() == listeners.Length);

        // It enters the similar tracks of its nearest model track whenever it scores above that answer's last entry.
        var live = S.App.Services.GetRequiredService<RecSys.Server.Events.LivePlays>().Tracks(serving);
        Assert.True(live.TryFind(track, out int at));
        long nearest = similar[0];
        var nearestVector = model.ItemVector(model.TrackIndex.IndexOf(nearest)).ToArray();
        var newVector = live.Vector(at).ToArray();
        float cosine = System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(nearestVector, newVector);
        var around = System.Text.Json.JsonDocument.Parse(await S.Http.GetStringAsync($"/recommend/similar/{nearest}?limit=50")).RootElement.EnumerateArray()
            .Select(e => (Id: e.GetProperty("track_id").GetInt64(), Score: e.GetProperty("score").GetSingle())).ToArray();
        // (Within 1e-4 of the last score it ties with model tracks and may fall either side.)
        if (cosine > around[^1].Score + 1e-4f) Assert.Contains(around, a => a.Id == track);
        else if (cosine < around[^1].Score - 1e-4f) Assert.DoesNotContain(around, a => a.Id == track);
        // Its listeners are never recommended it.
        Assert.DoesNotContain(track, (await PersonalAsync(S.Http, model.UserIds[listeners[0]], 100)).Tracks);
    }
}
