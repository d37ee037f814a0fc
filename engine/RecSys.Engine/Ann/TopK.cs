using System.Runtime.CompilerServices;
namespace RecSys.Engine.Ann;

/// <summary>One ranked result: a dense index (item or user) and its score.</summary>
public readonly record struct ScoredIndex(int Index, float Score);

/// <summary>
/// Keeps the k best (score, index) pairs seen, in a bounded min-heap: O(n log k), no allocation after
/// construction. Ties go to the lower index, so rankings are deterministic.
/// </summary>
public sealed class TopK
{
    private readonly float[] _scores;
    private readonly int[] _indices;

    public TopK(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _scores = new float[capacity];
        _indices = new int[capacity];
    }

    public int Capacity => _scores.Length;
    public int Count { get; private set; }

    public void Clear() => Count = 0;

    /// <summary>The lowest kept score (the one the next push must beat); −∞ while empty.</summary>
    public float WorstScore => Count > 0 ? _scores[0] : float.NegativeInfinity;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Push(float score, int index)
    {
        if (Count < _scores.Length)
        {
            int i = Count++;
            _scores[i] = score;
            _indices[i] = index;
            SiftUp(i);
        }
        else if (_scores.Length > 0 && Better(score, index, _scores[0], _indices[0]))
        {
            _scores[0] = score;
            _indices[0] = index;
            SiftDown(0);
        }
    }

    /// <summary>Pushes every score except −∞ (the marker of an excluded candidate); index = position.</summary>
    public void PushAll(ReadOnlySpan<float> scores)
    {
        // Scanning in index order, an equal score never beats the heap's worst (it has a higher index).
        if (_scores.Length == 0) return;
        for (int i = 0; i < scores.Length; i++)
        {
            float s = scores[i];
            if (s == float.NegativeInfinity) continue;
            if (Count < _scores.Length || s > _scores[0]) Push(s, i);
        }
    }

    /// <summary>The kept pairs, best first. Empties the heap.</summary>
    public ScoredIndex[] Drain()
    {
        var result = new ScoredIndex[Count];
        for (int i = result.Length - 1; i >= 0; i--)
        {
            result[i] = new ScoredIndex(_indices[0], _scores[0]);
            int last = --Count;
            _scores[0] = _scores[last];
            _indices[0] = _indices[last];
            if (Count > 0) SiftDown(0);
        }
        return result;
    }

    /// <summary>a ranks above b: higher score, or equal score and lower index.</summary>
    private static bool Better(float sa, int ia, float sb, int ib) => sa > sb || (sa == sb && ia < ib);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void SiftUp(int i)
    {
        while (i > 0)
        {
            int parent = (i - 1) / 2;
            if (!Better(_scores[parent], _indices[parent], _scores[i], _indices[i])) break;
            Swap(i, parent);
            i = parent;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void SiftDown(int i)
    {
        while (true)
        {
            int left = 2 * i + 1, right = left + 1, worst = i;
            if (left < Count && Better(_scores[worst], _indices[worst], _scores[left], _indices[left])) worst = left;
            if (right < Count && Better(_scores[worst], _indices[worst], _scores[right], _indices[right])) worst = right;
            if (worst == i) return;
            Swap(i, worst);
            i = worst;
        }
    }

    private void Swap(int a, int b)
    {
        (_scores[a], _scores[b]) = (_scores[b], _scores[a]);
        (_indices[a], _indices[b]) = (_indices[b], _indices[a]);
    }
}
