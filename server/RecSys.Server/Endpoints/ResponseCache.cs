using System.Collections.Concurrent;

namespace RecSys.Server.Endpoints;

/// <summary>
/// Serialised responses of the deterministic endpoints (ML top-N of a known user, similar tracks),
/// keyed by request and tied to one serving model: a model swap starts a fresh cache, so a cached
/// answer never outlives the model that computed it. Bounded: when full, it is cleared and refills
/// with what is asked now (cheaper than LRU bookkeeping on every hit, and hot keys come back at once).
/// </summary>
public sealed class ResponseCache(int maxEntries)
{
    private Generation _generation = new(null);

    private sealed class Generation(object? owner)
    {
        public object? Owner { get; } = owner;
        public ConcurrentDictionary<(int Kind, long Id, int Limit), byte[]> Entries { get; } = new();
    }

    public const int Personal = 0;
    public const int Similar = 1;

    public bool Enabled => maxEntries > 0;

    public bool TryGet(object model, int kind, long id, int limit, out byte[] body)
    {
        var g = Volatile.Read(ref _generation);
        if (ReferenceEquals(g.Owner, model) && g.Entries.TryGetValue((kind, id, limit), out body!)) return true;
        body = null!;
        return false;
    }

    public void Add(object model, int kind, long id, int limit, byte[] body)
    {
        if (!Enabled) return;
        var g = Volatile.Read(ref _generation);
        if (!ReferenceEquals(g.Owner, model))
        {
            var fresh = new Generation(model);
            g = Interlocked.CompareExchange(ref _generation, fresh, g) == g ? fresh : Volatile.Read(ref _generation);
            if (!ReferenceEquals(g.Owner, model)) return;
        }
        if (g.Entries.Count >= maxEntries) g.Entries.Clear();
        g.Entries[(kind, id, limit)] = body;
    }
}
