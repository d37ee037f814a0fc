namespace RecSys.Engine.Ann;

/// <summary>
/// A binary heap of (distance, node) pairs, either closest-first or furthest-first; reused across
/// searches (Clear keeps the arrays).
/// </summary>
internal sealed class DistanceQueue(bool closestFirst, int capacity = 64)
{
    private float[] _dist = new float[capacity];
    private int[] _node = new int[capacity];

    public int Count { get; private set; }
    public float TopDistance => _dist[0];
    public int TopNode => _node[0];

    public void Clear() => Count = 0;

    public void Push(float distance, int node)
    {
        if (Count == _dist.Length)
        {
            Array.Resize(ref _dist, Count * 2);
            Array.Resize(ref _node, Count * 2);
        }
        int i = Count++;
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (!Before(distance, _dist[parent])) break;
            _dist[i] = _dist[parent];
            _node[i] = _node[parent];
            i = parent;
        }
        _dist[i] = distance;
        _node[i] = node;
    }

    public void Pop()
    {
        int last = --Count;
        if (last == 0) return;
        float d = _dist[last];
        int n = _node[last];
        int i = 0;
        while (true)
        {
            int child = 2 * i + 1;
            if (child >= last) break;
            if (child + 1 < last && Before(_dist[child + 1], _dist[child])) child++;
            if (!Before(_dist[child], d)) break;
            _dist[i] = _dist[child];
            _node[i] = _node[child];
            i = child;
        }
        _dist[i] = d;
        _node[i] = n;
    }

    private bool Before(float a, float b) => closestFirst ? a < b : a > b;
}
