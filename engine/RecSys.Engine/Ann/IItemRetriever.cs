
namespace RecSys.Engine.Ann;

/// <summary>
/// Top-k retrieval over a fixed set of item vectors. Two implementations: exact (SIMD brute force,
/// also the recall oracle) and HNSW; results have the same shape: item index and score (dot product
/// or cosine), best first. Thread-safe for concurrent queries.
/// </summary>
public interface IItemRetriever
{
    RetrievalMetric Metric { get; }
    int Count { get; }
    int Dimensions { get; }

    /// <summary>The best k items for <paramref name="query"/>, never any index in <paramref name="exclude"/>.</summary>
    ScoredIndex[] Search(ReadOnlySpan<float> query, int k, ReadOnlySpan<int> exclude = default);
}
