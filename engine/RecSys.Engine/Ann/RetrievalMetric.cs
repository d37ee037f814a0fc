namespace RecSys.Engine.Ann;

/// <summary>How candidates are scored against a query.</summary>
public enum RetrievalMetric
{
    /// <summary>Dot product: user top-N (maximum inner product search).</summary>
    InnerProduct,
    /// <summary>Cosine similarity: similar tracks.</summary>
    Cosine,
}
