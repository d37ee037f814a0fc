using System.Buffers;

namespace RecSys.Server.Endpoints;

/// <summary>
/// Answers of the deterministic endpoints (ML top-N of a known user, similar tracks) as opaque bytes
/// — the endpoints store rankings with their scores as text (<c>CachedRanking</c>) and render JSON
/// on a hit — keyed by request and tied to one serving model: a model swap starts afresh, so a
/// cached answer never outlives the model that computed it.
/// <para>
/// Answers live in one byte slab and the index is an open-addressing table of plain structs, both
/// allocated once: the garbage collector has nothing to trace or promote, however many entries come
/// and go (a dictionary of byte arrays made every gen-0 collection of a large server slower and left
/// each clear-out to a full collection). When the table or the slab is full, the cache empties and
/// refills with what is asked now (cheaper than LRU bookkeeping; hot keys come back at once).
/// One lock guards both; a hit holds it for one copy of a few hundred bytes.
/// </para>
/// </summary>
public sealed class ResponseCache
{
    public const int Personal = 0;
    public const int Similar = 1;

    private readonly object _lock = new();
    private readonly int _maxEntries;
    private readonly int _slabBytes;
    private Entry[] _table = [];
    private byte[] _slab = [];
    private int _used;
    private int _count;
    private int _generation = 1;
    private object? _owner;

    /// <summary>A slot holds an entry only when its generation is the cache's; emptying the cache is one increment.</summary>
    private struct Entry
    {
        public int Generation;
        public long Id;
        public int Kind;
        public int Limit;
        public int Offset;
        public int Length;
    }

    public ResponseCache(int maxEntries, int slabBytes = 64 << 20)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxEntries);
        ArgumentOutOfRangeException.ThrowIfNegative(slabBytes);
        _maxEntries = maxEntries;
        _slabBytes = slabBytes;
    }

    public bool Enabled => _maxEntries > 0 && _slabBytes > 0;

    /// <summary>Entries held now (for tests and metrics).</summary>
    public int Count
    {
        get
        {
            lock (_lock) return _count;
        }
    }

    /// <summary>Appends the cached body for the request to <paramref name="output"/>; false when there is none for this model.</summary>
    public bool TryCopy(object model, int kind, long id, int limit, IBufferWriter<byte> output)
    {
        if (!Enabled) return false;
        lock (_lock)
        {
            if (!ReferenceEquals(_owner, model)) return false;
            int slot = Find(kind, id, limit);
            if (slot < 0) return false;
            ref var e = ref _table[slot];
            var body = _slab.AsSpan(e.Offset, e.Length);
            body.CopyTo(output.GetSpan(body.Length));
            output.Advance(body.Length);
            return true;
        }
    }

    /// <summary>
    /// Keeps <paramref name="body"/> for the request; an empty body is not kept (a miss and an empty
    /// answer look alike), nor one computed before a <see cref="Clear"/> (<paramref name="clearsSeen"/>:
    /// <see cref="Clears"/> when the computation began).
    /// </summary>
    public void Add(object model, int kind, long id, int limit, ReadOnlySpan<byte> body, int? clearsSeen = null)
    {
        if (!Enabled || body.IsEmpty || body.Length > _slabBytes) return;
        lock (_lock)
        {
            if (clearsSeen is { } seen && seen != _clears) return;
            if (_table.Length == 0)
            {
                // Load factor at most 1/2: probes stay short.
                _table = new Entry[(int)Math.Min(1L << 30, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)_maxEntries * 2u))];
                _slab = new byte[_slabBytes];
            }
            if (!ReferenceEquals(_owner, model) || _count >= _maxEntries || _used + body.Length > _slab.Length)
            {
                // O(1), not a pass over the table (which held every request for milliseconds on a large one).
                if (++_generation == int.MaxValue)
                {
                    Array.Clear(_table);
                    _generation = 1;
                }
                _used = 0;
                _count = 0;
                _owner = model;
            }
            if (Find(kind, id, limit) >= 0) return;
            int slot = Slot(kind, id, limit);
            while (_table[slot].Generation == _generation) slot = (slot + 1) & (_table.Length - 1);
            body.CopyTo(_slab.AsSpan(_used));
            _table[slot] = new Entry { Generation = _generation, Id = id, Kind = kind, Limit = limit, Offset = _used, Length = body.Length };
            _used += body.Length;
            _count++;
        }
    }

    private int _clears;

    /// <summary>How often the cache was emptied: an answer computed before a clear must not be added after it.</summary>
    public int Clears => Volatile.Read(ref _clears);

    /// <summary>Forgets every entry (O(1)): what the cache holds may be outranked now.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _owner = null;
            _clears++;
        }
    }

    private int Slot(int kind, long id, int limit) => HashCode.Combine(kind, id, limit) & (_table.Length - 1);

    private int Find(int kind, long id, int limit)
    {
        if (_table.Length == 0) return -1;
        for (int slot = Slot(kind, id, limit); ; slot = (slot + 1) & (_table.Length - 1))
        {
            ref var e = ref _table[slot];
            if (e.Generation != _generation) return -1;
            if (e.Id == id && e.Limit == limit && e.Kind == kind) return slot;
        }
    }
}
