using System.Buffers;
using System.Text;
using RecSys.Server.Endpoints;

namespace RecSys.Tests.Server;

public sealed class ResponseCacheTests
{
    private static byte[] BodyOf(int kind, long id, int limit) => Encoding.UTF8.GetBytes($"[{{\"kind\":{kind},\"id\":{id},\"limit\":{limit},\"pad\":\"{new string('x', (int)(id % 97))}\"}}]");

    private static string? Get(ResponseCache cache, object model, int kind, long id, int limit)
    {
        var output = new ArrayBufferWriter<byte>();
        return cache.TryCopy(model, kind, id, limit, output) ? Encoding.UTF8.GetString(output.WrittenSpan) : null;
    }

    [Fact]
    public void Bodies_come_back_per_model_kind_id_and_limit()
    {
        var cache = new ResponseCache(100);
        object model = new(), other = new();
        cache.Add(model, ResponseCache.Personal, 7, 20, BodyOf(0, 7, 20));
        cache.Add(model, ResponseCache.Similar, 7, 20, BodyOf(1, 7, 20));
        Assert.Equal(Encoding.UTF8.GetString(BodyOf(0, 7, 20)), Get(cache, model, ResponseCache.Personal, 7, 20));
        Assert.Equal(Encoding.UTF8.GetString(BodyOf(1, 7, 20)), Get(cache, model, ResponseCache.Similar, 7, 20));
        Assert.Null(Get(cache, model, ResponseCache.Personal, 7, 10));
        Assert.Null(Get(cache, model, ResponseCache.Personal, 8, 20));
        Assert.Null(Get(cache, other, ResponseCache.Personal, 7, 20));

        // A new model starts afresh: the old model's answers are gone.
        cache.Add(other, ResponseCache.Personal, 1, 20, BodyOf(0, 1, 20));
        Assert.Null(Get(cache, model, ResponseCache.Personal, 7, 20));
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void A_full_table_or_slab_empties_and_refills()
    {
        var byEntries = new ResponseCache(maxEntries: 10);
        object model = new();
        for (int id = 0; id < 10; id++) byEntries.Add(model, 0, id, 20, BodyOf(0, id, 20));
        Assert.Equal(10, byEntries.Count);
        byEntries.Add(model, 0, 10, 20, BodyOf(0, 10, 20));
        Assert.Equal(1, byEntries.Count);
        Assert.NotNull(Get(byEntries, model, 0, 10, 20));
        Assert.Null(Get(byEntries, model, 0, 3, 20));

        var bySlab = new ResponseCache(maxEntries: 1000, slabBytes: 300);
        bySlab.Add(model, 0, 1, 20, new byte[200]);
        bySlab.Add(model, 0, 2, 20, new byte[200]);
        Assert.Equal(1, bySlab.Count);
        Assert.NotNull(Get(bySlab, model, 0, 2, 20));
        bySlab.Add(model, 0, 3, 20, new byte[301]); // larger than the slab: not cached, nothing lost
        Assert.Null(Get(bySlab, model, 0, 3, 20));
        Assert.NotNull(Get(bySlab, model, 0, 2, 20));

        var off = new ResponseCache(0);
        off.Add(model, 0, 1, 20, BodyOf(0, 1, 20));
        Assert.False(off.Enabled);
        Assert.Null(Get(off, model, 0, 1, 20));
    }

    [Fact]
    public void Concurrent_readers_and_writers_never_see_a_torn_or_foreign_body()
    {
        // Small table and slab, so entries are evicted and slots reused all the time.
        var cache = new ResponseCache(maxEntries: 64, slabBytes: 8 * 1024);
        object model = new();
        int checkedHits = 0;
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, worker =>
        {
            var rng = new Random(worker);
            var output = new ArrayBufferWriter<byte>();
            for (int i = 0; i < 20_000; i++)
            {
                long id = rng.Next(40);
                int kind = rng.Next(2), limit = 10;
                output.ResetWrittenCount();
                if (cache.TryCopy(model, kind, id, limit, output))
                {
                    Assert.True(output.WrittenSpan.SequenceEqual(BodyOf(kind, id, limit)), $"wrong body for {kind}/{id}/{limit}");
                    Interlocked.Increment(ref checkedHits);
                }
                else
                {
                    cache.Add(model, kind, id, limit, BodyOf(kind, id, limit));
                }
            }
        });
        Assert.True(checkedHits > 1000, $"only {checkedHits} hits: the test did not exercise reads");
    }

    [Fact]
    public void An_answer_computed_before_a_clear_is_not_kept_after_it()
    {
        var cache = new ResponseCache(10, 1 << 16);
        var model = new object();
        int seen = cache.Clears;
        cache.Add(model, ResponseCache.Personal, 1, 20, "a"u8, seen);
        Assert.Equal(1, cache.Count);
        cache.Clear();
        Assert.False(cache.TryCopy(model, ResponseCache.Personal, 1, 20, new System.Buffers.ArrayBufferWriter<byte>()));
        cache.Add(model, ResponseCache.Personal, 2, 20, "b"u8, seen);
        Assert.False(cache.TryCopy(model, ResponseCache.Personal, 2, 20, new System.Buffers.ArrayBufferWriter<byte>()));
        cache.Add(model, ResponseCache.Personal, 2, 20, "b"u8, cache.Clears);
        Assert.True(cache.TryCopy(model, ResponseCache.Personal, 2, 20, new System.Buffers.ArrayBufferWriter<byte>()));
    }
}
