using System.Numerics;
using System.Runtime.CompilerServices;

namespace RecSys.Engine.Sparse;

/// <summary>
/// External int64 ids ↔ dense int32 indices. Built from data, indices follow ascending id order, so
/// the same set of ids always gets the same indices whatever order the rows came in. Lookups go through an
/// open-addressing table (linear probing, power-of-two capacity) that is read-only after
/// construction and safe for concurrent readers.
/// </summary>
public sealed class IdMap
{
    private readonly long[] _ids;
    private readonly long[] _slotKeys;
    private readonly int[] _slotValues; // -1 = empty
    private readonly int _shift;

    private IdMap(long[] sortedIds, string what = "id")
    {
        _ids = sortedIds;
        int capacity = CapacityFor(sortedIds.Length);
        _slotKeys = new long[capacity];
        _slotValues = new int[capacity];
        _slotValues.AsSpan().Fill(-1);
        _shift = 64 - BitOperations.Log2((uint)capacity);
        for (int i = 0; i < sortedIds.Length; i++)
        {
            int slot = FindSlot(_slotKeys, _slotValues, sortedIds[i], _shift);
            if (_slotValues[slot] >= 0)
            {
                throw new ArgumentException($"duplicate {what} {sortedIds[i]} (at positions {_slotValues[slot]} and {i})");
            }
            _slotKeys[slot] = sortedIds[i];
            _slotValues[slot] = i;
        }
    }

    public int Count => _ids.Length;

    /// <summary>The ids in index order.</summary>
    public ReadOnlySpan<long> Ids => _ids;

    public long this[int index] => _ids[index];

    /// <summary>
    /// A map over ids that must be distinct, index = position (a model file's stored order, which
    /// need not be sorted); throws naming the first duplicate.
    /// </summary>
    public static IdMap FromDistinct(ReadOnlySpan<long> ids, string what = "id") => new(ids.ToArray(), what);

    /// <summary>A map over the distinct values of a column, indices in ascending id order.</summary>
    public static IdMap FromColumn(ReadOnlySpan<long> column)
    {
        if (column.IsEmpty)
        {
            return new IdMap([]);
        }
        // Distinct values through a growing open-addressing set, then sort the (much smaller) set.
        int capacity = CapacityFor(Math.Min(column.Length, 1 << 20));
        var keys = new long[capacity];
        var used = new bool[capacity];
        int shift = 64 - BitOperations.Log2((uint)capacity);
        int count = 0;
        foreach (long id in column)
        {
            int slot = Hash(id, shift);
            while (used[slot] && keys[slot] != id)
            {
                slot = (slot + 1) & (keys.Length - 1);
            }
            if (used[slot])
            {
                continue;
            }
            used[slot] = true;
            keys[slot] = id;
            if (++count * 2 > keys.Length)
            {
                (keys, used, shift) = Rehash(keys, used);
            }
        }
        var distinct = new long[count];
        int n = 0;
        for (int i = 0; i < keys.Length; i++)
        {
            if (used[i])
            {
                distinct[n++] = keys[i];
            }
        }
        Array.Sort(distinct);
        return new IdMap(distinct);
    }

    /// <summary>The dense index of <paramref name="id"/>, or -1 when the id is unknown.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int IndexOf(long id)
    {
        int slot = FindSlot(_slotKeys, _slotValues, id, _shift);
        return _slotValues[slot];
    }

    /// <summary>Maps a whole column to indices, in parallel; every id must be present.</summary>
    public int[] MapColumn(ReadOnlySpan<long> column)
    {
        var result = new int[column.Length];
        var source = column.ToArray();
        const int Chunk = 1 << 16;
        int chunks = (source.Length + Chunk - 1) / Chunk;
        Parallel.For(0, chunks, c =>
        {
            int start = c * Chunk;
            int end = Math.Min(start + Chunk, source.Length);
            for (int i = start; i < end; i++)
            {
                int index = IndexOf(source[i]);
                if (index < 0)
                {
                    throw new KeyNotFoundException($"id {source[i]} is not in the map");
                }
                result[i] = index;
            }
        });
        return result;
    }

    private static (long[] Keys, bool[] Used, int Shift) Rehash(long[] keys, bool[] used)
    {
        var newKeys = new long[keys.Length * 2];
        var newUsed = new bool[keys.Length * 2];
        int shift = 64 - BitOperations.Log2((uint)newKeys.Length);
        for (int i = 0; i < keys.Length; i++)
        {
            if (!used[i]) continue;
            int slot = Hash(keys[i], shift);
            while (newUsed[slot]) slot = (slot + 1) & (newKeys.Length - 1);
            newUsed[slot] = true;
            newKeys[slot] = keys[i];
        }
        return (newKeys, newUsed, shift);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int FindSlot(long[] keys, int[] values, long id, int shift)
    {
        int mask = keys.Length - 1;
        int slot = Hash(id, shift);
        while (values[slot] >= 0 && keys[slot] != id)
        {
            slot = (slot + 1) & mask;
        }
        return slot;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Hash(long id, int shift) => (int)(((ulong)id * 0x9E3779B97F4A7C15UL) >> shift);

    private static int CapacityFor(int count) => (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, count * 2));
}
