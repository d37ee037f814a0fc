using Microsoft.Extensions.DependencyInjection;
using System.Net;
using RecSys.Server.Events;
using static RecSys.Tests.Server.PlayEvents;

namespace RecSys.Tests.Server;

/// <summary>Events on the embedded log: training reads each once, a restart replays what the model has not seen, limits answer 413.</summary>
public sealed class EventTrainingTests
{
    private static string NewId() => Guid.NewGuid().ToString("N");

    [Fact]
    public async Task Training_after_events_sees_each_acknowledged_event_exactly_once_and_a_restart_keeps_later_ones_live()
    {
        using var dir = new TempDir();
        string storage = Path.Combine(dir.Path, "store");
        const long newcomer = 7_000_001, later = 7_000_002;
        long[] tracks;
        string[] batch;
        await using (var s = await TestServer.StartAsync(o => { o.Storage = storage; return o; }))
        {
            tracks = s.Host.Current!.Model.TrackIds.Take(4).ToArray();
            batch = [Json(NewId(), newcomer, tracks[0]), Json(NewId(), newcomer, tracks[1]), Json(NewId(), newcomer, tracks[1]), Json(NewId(), newcomer, tracks[2], milestone: 10, completed: false)];
            await AcceptedAsync(s.Http, batch);
            await AcceptedAsync(s.Http, batch);
            Assert.True(s.Training.TryStart("test", out var run));
            var outcome = await run;
            Assert.True(outcome.Ok && outcome.Promoted, outcome.Message);
            var serving = s.Host.Current!;
            Assert.Equal(outcome.Version, serving.Version);
            var model = serving.Model;
            int row = model.UserIndex.IndexOf(newcomer);
            Assert.True(row >= 0, "the newcomer is in the retrained model");
            // Two qualified plays of tracks[1] (two events), one of tracks[0]; the retry and the unqualified play count nothing.
            var weights = model.UserItems!.RowIndices(row).ToArray().Zip(model.UserItems.RowValues(row).ToArray())
                .ToDictionary(p => model.TrackIds[p.First], p => p.Second);
            Assert.Equal(new Dictionary<long, float> { [tracks[0]] = 1, [tracks[1]] = 2 }, weights);
            var ingest = s.App.Services.GetRequiredService<EventIngest>();
            Assert.Equal(ingest.Epoch, serving.Manifest!.EventsEpoch);
            Assert.Equal(4, serving.Manifest.EventsThrough);
            Assert.Contains("qualified play events", serving.Manifest.Source);

            // Plays the model has seen are not live any more; a play after training is.
            var live = s.App.Services.GetRequiredService<LivePlays>();
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (live.Find(newcomer) is not null && DateTime.UtcNow < deadline) await Task.Delay(20);
            Assert.Null(live.Find(newcomer));
            await AcceptedAsync(s.Http, Json(NewId(), later, tracks[3]));
            Assert.Equal("fold-in", (await PersonalAsync(s.Http, later)).Source);
        }
        // After a restart the play after training is live again (replayed from the log), the others are not.
        await using (var s = await TestServer.StartAsync(o => { o.Storage = storage; return o; }))
        {
            var live = s.App.Services.GetRequiredService<LivePlays>();
            Assert.Null(live.Find(newcomer));
            Assert.NotNull(live.Find(later));
            var (source, recommended) = await PersonalAsync(s.Http, later);
            Assert.Equal("fold-in", source);
            Assert.DoesNotContain(tracks[3], recommended);
            Assert.Equal((0, 4), await AcceptedAsync(s.Http, batch));
        }
    }

    [Fact]
    public async Task Batches_past_the_limits_answer_413_and_store_nothing()
    {
        await using var s = await TestServer.StartAsync(o =>
        {
            o.Events.MaxBatch = 3;
            o.Events.QueueEvents = 10;
            o.Events.MaxBodyKilobytes = 1;
            return o;
        });
        var (status, body, _) = await PostAsync(s.Http, Array(Enumerable.Range(0, 4).Select(i => Json(NewId(), 1, i))));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Contains("MaxBatch", body.GetProperty("detail").GetString());
        (status, body, _) = await PostAsync(s.Http, Array([Json(new string('x', 100), 1, 1), Json(NewId(), 1, 2) + new string(' ', 1200)]));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Contains("MaxBodyKilobytes", body.GetProperty("detail").GetString());
        // Chunked, without a length: refused as it grows past the limit.
        using (var content = new System.Net.Http.StreamContent(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(Array([Json(NewId(), 1, 2) + new string(' ', 2000)])))))
        {
            content.Headers.ContentType = new("application/json");
            var request = new HttpRequestMessage(HttpMethod.Post, "/events/plays") { Content = content };
            request.Headers.TransferEncodingChunked = true;
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await s.Http.SendAsync(request)).StatusCode);
        }
        Assert.Empty(s.App.Services.GetRequiredService<EventIngest>().Log!.Read());
    }

    [Fact]
    public async Task A_rollback_to_a_model_trained_on_fewer_events_replays_what_it_lacks_from_the_log()
    {
        await using var s = await TestServer.StartAsync();
        var first = s.Host.Current!;
        long track = first.Model.TrackIds[0];
        const long listener = 7_100_001;
        await AcceptedAsync(s.Http, Json(NewId(), listener, track));
        Assert.True(s.Training.TryStart("test", out var run));
        Assert.True((await run).Promoted);
        var live = s.App.Services.GetRequiredService<LivePlays>();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (live.Find(listener) is not null && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Null(live.Find(listener));

        // Back to the first model, which never saw the play: it is live again, from the log.
        Assert.Equal(first.Version, s.Host.Store.Rollback());
        Assert.True(s.Host.ReloadCurrent().Ok);
        while (live.Find(listener) is null && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.NotNull(live.Find(listener));
        var (source, tracks) = await PersonalAsync(s.Http, listener);
        Assert.Equal("fold-in", source);
        Assert.DoesNotContain(track, tracks);
    }

    [Fact]
    public async Task Bodies_past_the_in_flight_budget_answer_503_before_they_are_read()
    {
        await using var s = await TestServer.StartAsync(o =>
        {
            o.Events.MaxBodyKilobytes = 64;
            o.Events.BodiesInFlightKilobytes = 100;
            return o;
        });
        // A client that announces 60 KB and sends a little of it holds its reservation. It asks to be
        // told to continue, which Kestrel does when the handler first reads the body: after the reservation.
        using var slow = new System.Net.Sockets.TcpClient();
        await slow.ConnectAsync(s.Http.BaseAddress!.Host, s.Http.BaseAddress.Port);
        var stream = slow.GetStream();
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(
            $"POST /events/plays HTTP/1.1\r\nHost: {s.Http.BaseAddress.Authority}\r\nContent-Type: application/json\r\nContent-Length: 60000\r\nExpect: 100-continue\r\n\r\n"));
        await stream.FlushAsync();
        using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            var answer = new byte[256];
            int read = 0;
            while (!System.Text.Encoding.ASCII.GetString(answer, 0, read).Contains("\r\n\r\n") && read < answer.Length)
            {
                int n = await stream.ReadAsync(answer.AsMemory(read), wait.Token);
                if (n == 0) break;
                read += n;
            }
            Assert.StartsWith("HTTP/1.1 100 Continue", System.Text.Encoding.ASCII.GetString(answer, 0, read));
        }
        await stream.WriteAsync("[   "u8.ToArray());
        await stream.FlushAsync();
        var (status, body, r) = await PostAsync(s.Http, Array([Json(NewId(), 1, 2)]) + new string(' ', 50_000));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("1", r.Headers.RetryAfter!.ToString());
        Assert.Contains("event bodies", body.GetProperty("detail").GetString());
        slow.Close();
        // Released: the next one is taken.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((status = (await PostAsync(s.Http, Array([Json(NewId(), 1, 2)]))).Status) != HttpStatusCode.Accepted && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(HttpStatusCode.Accepted, status);
    }
}
