using System.Numerics.Tensors;

namespace RecSys.Engine.Ann;

/// <summary>
/// Approximate top-k over item vectors through an HNSW graph. Cosine indexes normalise the vectors;
/// inner-product indexes use the MIPS transform (or, for comparison, a native inner-product graph).
/// Scores are always exact (dot product or cosine recomputed on the original vectors).
/// </summary>
public sealed partial class HnswRetriever : IItemRetriever
{
    private readonly HnswGraph _graph;
    private readonly float[] _original;
    private readonly float[]? _inverseNorms;

    private HnswRetriever(HnswGraph graph, float[] original, int dimensions, RetrievalMetric metric, InnerProductMode mode, HnswOptions options)
    {
        _graph = graph;
        _original = original;
        Dimensions = dimensions;
        Metric = metric;
        Mode = mode;
        Options = options;
        if (metric == RetrievalMetric.Cosine) _inverseNorms = InverseNorms(original, dimensions);
    }

    public RetrievalMetric Metric { get; }
    public InnerProductMode Mode { get; }
    public HnswOptions Options { get; }
    public int Count => _graph.Count;

    internal HnswGraph Graph => _graph;
    public int Dimensions { get; }

    /// <summary>Allocates the search scratch of <paramref name="concurrentSearches"/> searches now, before the index serves.</summary>
    public void ReserveSearchContexts(int concurrentSearches) => _graph.ReserveContexts(concurrentSearches);

    /// <summary>Candidate list size of searches; settable at run time (the recall/speed knob).</summary>
    public int EfSearch { get; set; }

    /// <summary>Builds an index over <paramref name="vectors"/> (row-major, <paramref name="dimensions"/> wide).</summary>
    public static HnswRetriever Build(float[] vectors, int dimensions, RetrievalMetric metric, HnswOptions? options = null, InnerProductMode mode = InnerProductMode.Transform)
    {
        options ??= new HnswOptions();
        options.Validate();
        if (dimensions < 1 || vectors.Length % dimensions != 0) throw new ArgumentException("vector array is not a whole number of rows");
        var store = Prepare(vectors, dimensions, metric, mode);
        var graph = HnswGraph.Build(store, options);
        return new HnswRetriever(graph, vectors, dimensions, metric, mode, options) { EfSearch = options.EfSearch };
    }

    public ScoredIndex[] Search(ReadOnlySpan<float> query, int k, ReadOnlySpan<int> exclude = default) => Search(query, k, EfSearch, exclude);

    public ScoredIndex[] Search(ReadOnlySpan<float> query, int k, int ef, ReadOnlySpan<int> exclude = default)
    {
        if (query.Length != Dimensions) throw new ArgumentException($"query has {query.Length} dimensions, the index {Dimensions}");
        if (k <= 0 || Count == 0) return [];
        Span<float> q = stackalloc float[_graph.Vectors.Stride];
        q.Clear();
        PrepareQuery(query, q);
        var ctx = _graph.RentContext();
        try
        {
            ctx.SetExclusions(exclude);
            _graph.Search(q, Math.Max(ef, k), ctx);
            var results = ctx.Results;
            while (results.Count > k) results.Pop();
            var found = new ScoredIndex[results.Count];
            for (int i = found.Length - 1; i >= 0; i--)
            {
                int node = results.TopNode;
                found[i] = new ScoredIndex(node, ExactScore(query, node));
                results.Pop();
            }
            // Re-rank by the exact score: the graph's distances are computed on prepared vectors and
            // round differently, and callers expect scores in order.
            Array.Sort(found, static (a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Index.CompareTo(b.Index));
            return found;
        }
        finally
        {
            ctx.SetExclusions(default);
            _graph.ReturnContext(ctx);
        }
    }

    private float ExactScore(ReadOnlySpan<float> query, int node)
    {
        float dot = TensorPrimitives.Dot(_original.AsSpan(node * Dimensions, Dimensions), query);
        if (_inverseNorms is null) return dot;
        float qn = TensorPrimitives.Norm(query);
        return qn > 0 ? dot * _inverseNorms[node] / qn : 0f;
    }

    private void PrepareQuery(ReadOnlySpan<float> query, Span<float> q)
    {
        query.CopyTo(q);
        if (Metric == RetrievalMetric.Cosine || Mode == InnerProductMode.Transform)
        {
            float n = TensorPrimitives.Norm(query);
            if (n > 0) TensorPrimitives.Multiply(q[..Dimensions], 1f / n, q[..Dimensions]);
        }
    }

    /// <summary>The vectors the graph is built over, for a metric and mode.</summary>
    private static VectorStore Prepare(float[] vectors, int dimensions, RetrievalMetric metric, InnerProductMode mode)
    {
        int count = vectors.Length / dimensions;
        bool transform = metric == RetrievalMetric.InnerProduct && mode == InnerProductMode.Transform;
        var store = new VectorStore(count, transform ? dimensions + 1 : dimensions);
        float maxNorm = 0;
        if (transform)
        {
            for (int i = 0; i < count; i++) maxNorm = Math.Max(maxNorm, TensorPrimitives.Norm(vectors.AsSpan(i * dimensions, dimensions)));
        }
        for (int i = 0; i < count; i++)
        {
            var source = vectors.AsSpan(i * dimensions, dimensions);
            var row = store.Row(i);
            source.CopyTo(row);
            if (metric == RetrievalMetric.Cosine)
            {
                float n = TensorPrimitives.Norm(source);
                // A zero vector stays zero: distance 1 (cosine 0) to everything.
                if (n > 0) TensorPrimitives.Multiply(row[..dimensions], 1f / n, row[..dimensions]);
            }
            else if (transform && maxNorm > 0)
            {
                TensorPrimitives.Multiply(row[..dimensions], 1f / maxNorm, row[..dimensions]);
                float scaled = TensorPrimitives.Norm(row[..dimensions]);
                row[dimensions] = MathF.Sqrt(Math.Max(0f, 1f - scaled * scaled));
            }
        }
        return store;
    }

    private static float[] InverseNorms(float[] vectors, int dimensions)
    {
        var result = new float[vectors.Length / dimensions];
        for (int i = 0; i < result.Length; i++)
        {
            float n = TensorPrimitives.Norm(vectors.AsSpan(i * dimensions, dimensions));
            result[i] = n > 0 ? 1f / n : 0f;
        }
        return result;
    }
}
