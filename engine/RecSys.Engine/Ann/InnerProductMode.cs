namespace RecSys.Engine.Ann;

/// <summary>How an inner-product (user top-N) index is built; docs/tuning.md compares the two.</summary>
public enum InnerProductMode
{
    /// <summary>
    /// Bachrach et al. 2014: items become unit vectors (y/M, √(1 − ‖y‖²/M²)) with M the largest item norm,
    /// queries (x/‖x‖, 0); the largest inner product is then the smallest cosine distance, a metric the
    /// graph heuristic is built for.
    /// </summary>
    Transform,
    /// <summary>A graph over the raw vectors with distance 1 − x·y (hnswlib's inner-product space).</summary>
    Native,
}
