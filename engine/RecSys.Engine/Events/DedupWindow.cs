using System.IO.Hashing;
using System.Text;

namespace RecSys.Engine.Events;

/// <summary>
/// The event ids seen most recently, at most <c>capacity</c> of them: a retry within that many
/// events is recognised. Ids are kept as 128-bit hashes (about 50 bytes with the set entry and the
/// ring slot, instead of a string each; two of a million ids colliding has odds of about 1 in 10^26),
/// oldest forgotten first.
/// </summary>
public sealed class DedupWindow
{
    private readonly HashSet<UInt128> _set;
    private readonly UInt128[] _ring;
    private int _next;

    public DedupWindow(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _ring = new UInt128[capacity];
        _set = new HashSet<UInt128>(Math.Min(capacity, 1 << 16));
    }

    public int Capacity => _ring.Length;
    public int Count => _set.Count;

    public static UInt128 Hash(string eventId)
    {
        Span<byte> utf8 = stackalloc byte[PlayEvent.MaxEventIdBytes * 3];
        int n = Encoding.UTF8.GetBytes(eventId, utf8);
        return XxHash128.HashToUInt128(utf8[..n]);
    }

    public bool Contains(UInt128 id) => _set.Contains(id);

    /// <summary>Remembers an id (forgetting the oldest when full); false when it is already remembered.</summary>
    public bool Add(UInt128 id)
    {
        if (_ring.Length == 0) return true;
        if (!_set.Add(id)) return false;
        if (_set.Count > _ring.Length) _set.Remove(_ring[_next]);
        _ring[_next] = id;
        _next = (_next + 1) % _ring.Length;
        return true;
    }
}
