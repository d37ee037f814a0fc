using System.Numerics.Tensors;
using RecSys.Engine.Compute;

namespace RecSys.Engine.Ann;

/// <summary>Brute force: one SIMD mat-vec over every item and a bounded heap. Exact, and the recall oracle.</summary>
public sealed class ExactRetriever : IItemRetriever
{
    private readonly float[] _vectors;
    private readonly float[]? _inverseNorms;

    [ThreadStatic] private static float[]? t_scores;
    [ThreadStatic] private static TopK? t_heap;

    public ExactRetriever(float[] vectors, int dimensions, RetrievalMetric metric)
    {
        if (dimensions < 1 || vectors.Length % dimensions != 0) throw new ArgumentException("vector array is not a whole number of rows");
        _vectors = vectors;
        Dimensions = dimensions;
        Count = vectors.Length / dimensions;
        Metric = metric;
        if (metric == RetrievalMetric.Cosine)
        {
            _inverseNorms = new float[Count];
            for (int i = 0; i < Count; i++)
            {
                float n = TensorPrimitives.Norm(vectors.AsSpan(i * dimensions, dimensions));
                _inverseNorms[i] = n > 0 ? 1f / n : 0f;
            }
        }
    }

    public RetrievalMetric Metric { get; }
    public int Count { get; }
    public int Dimensions { get; }

    public ScoredIndex[] Search(ReadOnlySpan<float> query, int k, ReadOnlySpan<int> exclude = default)
    {
        if (query.Length != Dimensions) throw new ArgumentException($"query has {query.Length} dimensions, the index {Dimensions}");
        if (k <= 0 || Count == 0) return [];
        var scores = t_scores is { } s && s.Length >= Count ? s : t_scores = new float[Math.Max(Count, 16)];
        Span<float> span = scores.AsSpan(0, Count);
        Kernels.MatVec(_vectors, Dimensions, query, span);
        if (_inverseNorms is not null)
        {
            float qn = TensorPrimitives.Norm(query);
            TensorPrimitives.Multiply(span, _inverseNorms, span);
            TensorPrimitives.Multiply(span, qn > 0 ? 1f / qn : 0f, span);
        }
        foreach (int i in exclude)
        {
            if ((uint)i < (uint)Count) span[i] = float.NegativeInfinity;
        }
        int capacity = Math.Min(k, Count);
        var heap = t_heap is { } h && h.Capacity == capacity ? h : t_heap = new TopK(capacity);
        heap.Clear();
        heap.PushAll(span);
        return heap.Drain();
    }
}
