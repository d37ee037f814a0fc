using System.Runtime.CompilerServices;

namespace RecSys.Engine.Ann;

/// <summary>Orders a <see cref="DistanceQueue{TOrder}"/>: closest first or furthest first.</summary>
internal interface IDistanceOrder
{
    static abstract bool Before(float a, float b);
}

/// <summary>Smallest distance at the top (the candidate queue).</summary>
internal readonly struct ClosestFirst : IDistanceOrder
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Before(float a, float b) => a < b;
}

/// <summary>Largest distance at the top (the bounded result set).</summary>
internal readonly struct FurthestFirst : IDistanceOrder
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Before(float a, float b) => a > b;
}

/// <summary>
/// A binary heap of (distance, node) pairs kept in one array of 8-byte entries, specialised by the
/// JIT for its order (no per-comparison branch on the direction); reused across searches.
/// </summary>
internal sealed class DistanceQueue<TOrder>(int capacity = 64) where TOrder : struct, IDistanceOrder
{
    private Entry[] _items = new Entry[capacity];

    private struct Entry
    {
        public float Distance;
        public int Node;
    }

    public int Count { get; private set; }
    public float TopDistance => _items[0].Distance;
    public int TopNode => _items[0].Node;

    public void Clear() => Count = 0;

    public void Push(float distance, int node)
    {
        if (Count == _items.Length) Array.Resize(ref _items, Count * 2);
        var items = _items;
        int i = Count++;
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (!TOrder.Before(distance, items[parent].Distance)) break;
            items[i] = items[parent];
            i = parent;
        }
        items[i].Distance = distance;
        items[i].Node = node;
    }

    public void Pop()
    {
        int last = --Count;
        if (last == 0) return;
        var items = _items;
        var moving = items[last];
        int i = 0;
        while (true)
        {
            int child = 2 * i + 1;
            if (child >= last) break;
            if (child + 1 < last && TOrder.Before(items[child + 1].Distance, items[child].Distance)) child++;
            if (!TOrder.Before(items[child].Distance, moving.Distance)) break;
            items[i] = items[child];
            i = child;
        }
        items[i] = moving;
    }
}
