using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using RecSys.Engine.Data;
using RecSys.Server.Configuration;
using RecSys.Server.Events;
using static RecSys.Tests.Server.PlayEvents;

namespace RecSys.Tests.Server;

/// <summary>POST /events/plays into the mapped PostgreSQL plays table, through Kestrel.</summary>
public sealed class PostgresEventTests(PostgresFixture db) : IClassFixture<PostgresFixture>
{
    private static string NewId() => Guid.NewGuid().ToString("N");

    private Task<TestServer> StartAsync(Action<RecSys.Server.Configuration.ServerOptions>? configure = null) => TestServer.StartAsync(o =>
    {
        o.Db = db.ConnectionString;
        configure?.Invoke(o);
        return o;
    });

    private async Task<long> CountAsync(string sql)
    {
        await using var c = new NpgsqlConnection(db.ConnectionString);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, c);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }

    /// <summary>
    /// A server on a plays table of its own (<paramref name="columns"/>: user_id, track_id, milestone,
    /// is_completed, created_at first), filled with qualified plays of 40 users and 30 tracks, no metadata.
    /// </summary>
    private async Task<TestServer> StartOnTableAsync(string table, string columns, Action<RecSys.Server.Configuration.ServerOptions>? configure = null)
    {
        await db.ExecuteAsync($"DROP TABLE IF EXISTS {table}; CREATE TABLE {table} ({columns})");
        await db.ExecuteAsync($"INSERT INTO {table} (user_id, track_id, milestone, is_completed, created_at) " +
            "SELECT u, t, 100, true, now() FROM generate_series(1, 40) u, generate_series(1, 30) t WHERE (u + t) % 3 = 0");
        return await StartAsync(o =>
        {
            o.DbMapping.Interactions.Table = table;
            o.DbMapping.Tracks.Table = "";
            o.DbMapping.Artists.Table = "";
            configure?.Invoke(o);
        });
    }

    /// <summary>Another session holding <paramref name="table"/> in EXCLUSIVE mode (until its transaction commits): inserts wait.</summary>
    private async Task<(NpgsqlConnection Connection, NpgsqlTransaction Transaction)> LockAsync(string table)
    {
        var connection = new NpgsqlConnection(db.ConnectionString);
        await connection.OpenAsync();
        var tx = await connection.BeginTransactionAsync();
        await using (var lockCmd = new NpgsqlCommand($"LOCK TABLE {table} IN EXCLUSIVE MODE", connection, tx)) await lockCmd.ExecuteNonQueryAsync();
        return (connection, tx);
    }

    [Fact]
    public async Task Events_go_into_the_plays_table_once_and_training_counts_each_once()
    {
        await db.SeedDemoAsync();
        await using var s = await StartAsync();
        var model = s.Host.Current!.Model;
        int row = Enumerable.Range(0, model.UserCount).First(u => model.UserItems!.RowLength(u) >= 10);
        long user = model.UserIds[row];
        var (_, before) = await PersonalAsync(s.Http, user);
        string[] batch = [Json(NewId(), user, before[0], playedAt: "2026-11-30T21:00:00+01:00"), Json(NewId(), 42_000_001, before[1]), Json(NewId(), 42_000_001, before[2], milestone: 10, completed: false)];
        Assert.Equal((3, 0), await AcceptedAsync(s.Http, batch));
        Assert.Equal((0, 3), await AcceptedAsync(s.Http, batch));
        Assert.Equal(3, await CountAsync("SELECT count(*) FROM interactions WHERE event_id IS NOT NULL"));
        Assert.Equal(1, await CountAsync($"SELECT count(*) FROM interactions WHERE event_id IS NOT NULL AND user_id = {user} AND track_id = {before[0]} AND milestone = 100 AND is_completed AND created_at = '2026-11-30T20:00:00Z'"));

        // The known user's next answer reflects the play; the new user is folded in from the table.
        var (source, after) = await PersonalAsync(s.Http, user);
        Assert.Equal("ml", source);
        Assert.DoesNotContain(before[0], after);
        var (newSource, newTracks) = await PersonalAsync(s.Http, 42_000_001);
        Assert.Equal("fold-in", newSource);
        Assert.DoesNotContain(before[1], newTracks);

        long weightBefore = (long)model.UserItems!.RowValues(row).ToArray().Zip(model.UserItems.RowIndices(row).ToArray()).Where(p => model.TrackIds[p.Second] == before[0]).Sum(p => p.First);
        Assert.True(s.Training.TryStart("test", out var run));
        var outcome = await run;
        Assert.True(outcome.Ok, outcome.Message);
        var retrained = s.Host.Current!.Model;
        int newRow = retrained.UserIndex.IndexOf(user);
        int item = retrained.TrackIndex.IndexOf(before[0]);
        int at = retrained.UserItems!.RowIndices(newRow).IndexOf(item);
        Assert.Equal(weightBefore + 1, retrained.UserItems.RowValues(newRow)[at]);
        int newcomer = retrained.UserIndex.IndexOf(42_000_001);
        Assert.Equal([1f], retrained.UserItems.RowValues(newcomer).ToArray());
    }

    [Fact]
    public async Task A_table_without_a_unique_event_id_answers_503_saying_what_to_add_and_works_once_it_is_there()
    {
        await using var s = await StartOnTableAsync("plays", "user_id bigint, track_id bigint, milestone int, is_completed boolean, created_at timestamptz");
        var (status, body, r) = await PostAsync(s.Http, Array([Json(NewId(), 1, 2)]));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("1", r.Headers.RetryAfter!.ToString());
        Assert.Contains("ADD COLUMN event_id text", body.GetProperty("detail").GetString());

        await db.ExecuteAsync("ALTER TABLE plays ADD COLUMN event_id text");
        (status, body, _) = await PostAsync(s.Http, Array([Json(NewId(), 1, 2)]));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("has no unique index", body.GetProperty("detail").GetString());

        await db.ExecuteAsync("CREATE UNIQUE INDEX ON plays (event_id)");
        Assert.Equal((1, 0), await AcceptedAsync(s.Http, Json(NewId(), 1, 2)));
        Assert.Equal(1, await CountAsync("SELECT count(*) FROM plays WHERE event_id IS NOT NULL"));
    }

    [Fact]
    public async Task A_writer_held_up_by_the_database_answers_503_past_the_queue_and_loses_nothing_it_accepted()
    {
        await db.SeedDemoAsync();
        await using var s = await StartAsync(o =>
        {
            o.Events.MaxBatch = 100;
            o.Events.QueueEvents = 300;
        });
        // Another session locks the plays table: the writer's insert waits behind it.
        var (locker, tx) = await LockAsync("interactions");
        await using var _ = locker;

        var batches = Enumerable.Range(0, 8).Select(b => Enumerable.Range(0, 100).Select(i => Json($"bp-{b}-{i}", 43_000_000 + b, i)).ToArray()).ToArray();
        var posts = batches.Select(b => PostAsync(s.Http, Array(b))).ToArray();
        // The batches past the queue are answered at once, while the lock holds the others.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (posts.Count(p => p.IsCompleted) < 5 && DateTime.UtcNow < deadline) await Task.Delay(20);
        var refused = posts.Where(p => p.IsCompleted).Select(p => p.Result).ToList();
        Assert.Equal(5, refused.Count);
        Assert.All(refused, r =>
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, r.Status);
            Assert.Equal("1", r.Response.Headers.RetryAfter!.ToString());
        });
        Assert.True(s.App.Services.GetRequiredService<EventIngest>().Queued <= 300);
        await tx.CommitAsync();
        var results = await Task.WhenAll(posts);
        var accepted = Enumerable.Range(0, 8).Where(b => results[b].Status == HttpStatusCode.Accepted).ToList();
        Assert.Equal(3, accepted.Count);
        foreach (int b in Enumerable.Range(0, 8))
        {
            long stored = await CountAsync($"SELECT count(*) FROM interactions WHERE event_id LIKE 'bp-{b}-%'");
            Assert.Equal(accepted.Contains(b) ? 100 : 0, stored);
        }
    }

    [Fact]
    public async Task An_event_the_table_cannot_take_fails_only_its_own_request_not_the_group()
    {
        await using var s = await StartOnTableAsync("narrow", "user_id int, track_id int, milestone int, is_completed boolean, created_at timestamptz, event_id text UNIQUE",
            o => o.Events.DatabaseWriters = 1);
        // The table locked: the first request holds the writer, the next two wait and go in one commit.
        var (locker, tx) = await LockAsync("narrow");
        await using var _ = locker;
        var holder = PostAsync(s.Http, Array([Json("n-hold", 1, 2)]));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        var ingest = s.App.Services.GetRequiredService<EventIngest>();
        while (ingest.Queued == 0 && DateTime.UtcNow < deadline) await Task.Delay(10);
        var tooBig = PostAsync(s.Http, Array([Json("n-big", 3_000_000_000, 2)]));
        var good = PostAsync(s.Http, Array([Json("n-good", 2, 3)]));
        while (ingest.Queued < 3 && DateTime.UtcNow < deadline) await Task.Delay(10);
        await tx.CommitAsync();
        Assert.Equal(HttpStatusCode.Accepted, (await holder).Status);
        Assert.Equal(HttpStatusCode.Accepted, (await good).Status);
        var (status, body, _) = await tooBig;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("out of range", body.GetProperty("detail").GetString());
        Assert.Equal(2, await CountAsync("SELECT count(*) FROM narrow WHERE event_id IS NOT NULL"));
    }
}
