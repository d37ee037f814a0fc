using Npgsql;
using RecSys.Engine.Data;
using RecSys.Engine.Events;

namespace RecSys.Tests.Data;

/// <summary>The shared play feed: numbers in commit order (a tailer never skips one), written with the plays, pruned safely.</summary>
public sealed class PostgresPlayFeedTests : IClassFixture<PostgresFixture>
{
    private readonly PostgresFixture _db;

    public PostgresPlayFeedTests(PostgresFixture db)
    {
        _db = db;
        using var c = Open();
        PostgresSchema.CreateAsync(c).GetAwaiter().GetResult();
        using var reset = new NpgsqlCommand("TRUNCATE interactions; DROP TABLE IF EXISTS recsys_play_feed; DROP SEQUENCE IF EXISTS recsys_play_feed_numbers", c);
        reset.ExecuteNonQuery();
    }

    private NpgsqlConnection Open()
    {
        var c = new NpgsqlConnection(_db.ConnectionString);
        c.Open();
        return c;
    }

    private static PlayEvent Play(string id, long user, long track, bool qualifies = true) =>
        new(id, user, track, qualifies ? 100 : 10, false, new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc));

    [Fact]
    public void Stored_plays_get_feed_numbers_others_are_stored_unnumbered_and_duplicates_not_at_all()
    {
        using var store = new PostgresEventStore(_db.ConnectionString, new PostgresMapping(), feedOrigin: 1);
        store.Prepare();
        var first = store.Store([Play("e1", 1, 10), Play("e2", 1, 11, qualifies: false), Play("e1", 1, 10)]);
        Assert.Equal([1, -1, 0], first);
        var second = store.Store([Play("e2", 1, 11), Play("e3", 2, 10)]);
        Assert.Equal([0, 2], second);

        using var c = Open();
        var rows = PostgresPlayFeed.Read(c, 0, 100);
        Assert.Equal([(1L, 1L, 10L), (2L, 2L, 10L)], rows.Select(r => (r.Id, r.UserId, r.TrackId)));
        Assert.All(rows, r => Assert.Equal(1, r.Origin));
        // What another replica applies: the qualified plays of other origins.
        Assert.Equal([1L, 2L], PostgresPlayFeed.ReadOthers(c, 0, 2, origin: 2, limit: 100).Select(r => r.Id));
        Assert.Equal([1L], PostgresPlayFeed.ReadOthers(c, 0, 1, origin: 2, limit: 100).Select(r => r.Id));
        Assert.Empty(PostgresPlayFeed.ReadOthers(c, 0, 2, origin: 1, limit: 100));
        Assert.Equal(3, _db.Scalar("SELECT count(*) FROM interactions"));
        Assert.Equal(2, PostgresPlayFeed.Mark(c).Newest);
        Assert.Equal([(2L, 2L)], PostgresPlayFeed.Read(c, 1, 100).Select(r => (r.Id, r.UserId)));
    }

    [Fact]
    public async Task Writers_side_by_side_commit_in_number_order_so_a_tailer_never_skips_a_number()
    {
        const int writers = 4, batches = 60, perBatch = 25;
        var stores = Enumerable.Range(0, writers).Select(w => new PostgresEventStore(_db.ConnectionString, new PostgresMapping(), feedOrigin: w + 1)).ToArray();
        foreach (var s in stores) s.Prepare();
        using var done = new CancellationTokenSource();
        // The tailer reads as a replica does: the newest number, then the other origins' rows up to it.
        var tailer = Task.Run(() =>
        {
            using var c = Open();
            var seen = new List<long>();
            long last = 0;
            while (true)
            {
                bool finished = done.IsCancellationRequested;
                long newest = PostgresPlayFeed.Mark(c).Newest;
                foreach (var row in PostgresPlayFeed.ReadOthers(c, last, newest, origin: 0, limit: 10_000))
                {
                    seen.Add(row.Id);
                    last = row.Id;
                }
                if (finished) return seen;
                Thread.Sleep(1);
            }
        });
        await Task.WhenAll(stores.Select((store, w) => Task.Run(() =>
        {
            for (int b = 0; b < batches; b++)
            {
                store.Store([.. Enumerable.Range(0, perBatch).Select(i => Play($"w{w}-b{b}-{i}", w * 1000 + i, b))]);
            }
        })));
        done.Cancel();
        var tailed = await tailer;
        foreach (var s in stores) s.Dispose();

        // Every number, once, in order: none committed behind the tailer's back.
        Assert.Equal(Enumerable.Range(1, writers * batches * perBatch).Select(i => (long)i), tailed);
    }

    [Fact]
    public void Pruning_keeps_the_newest_row_and_a_recreated_feed_has_another_epoch_and_an_uncached_sequence()
    {
        using var store = new PostgresEventStore(_db.ConnectionString, new PostgresMapping(), feedOrigin: 1);
        store.Prepare();
        store.Store([.. Enumerable.Range(0, 10).Select(i => Play($"p{i}", i, i))]);
        using var c = Open();
        string epoch = PostgresPlayFeed.Mark(c).Epoch;
        Assert.Equal(4, PostgresPlayFeed.Prune(c, 4));
        Assert.Equal(5, PostgresPlayFeed.Read(c, 0, 100)[0].Id);
        // Pruning past the newest keeps it: the numbers' high mark survives.
        Assert.Equal(5, PostgresPlayFeed.Prune(c, 100));
        Assert.Equal([10L], PostgresPlayFeed.Read(c, 0, 100).Select(r => r.Id));
        Assert.Equal(10, PostgresPlayFeed.Mark(c).Newest);

        using (var drop = new NpgsqlCommand("DROP TABLE recsys_play_feed; ALTER SEQUENCE recsys_play_feed_numbers CACHE 20", c)) drop.ExecuteNonQuery();
        PostgresPlayFeed.Ensure(c);
        Assert.NotEqual(epoch, PostgresPlayFeed.Mark(c).Epoch);
        // An operator's cache setting would break the commit order: set back to one number at a time.
        using var cache = new NpgsqlCommand("SELECT cache_size FROM pg_sequences WHERE sequencename = 'recsys_play_feed_numbers'", c);
        Assert.Equal(1L, (long)cache.ExecuteScalar()!);
    }
}
