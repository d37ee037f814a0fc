namespace RecSys.Engine.Sparse;

/// <summary>How a raw weight r (play count, rating) becomes f(r) in the confidence c = 1 + alpha·f(r).</summary>
public enum ConfidenceScaling
{
    /// <summary>f(r) = r: the original design's "1.0 + 3.0" per qualified play.</summary>
    Linear,
    /// <summary>f(r) = ln(1 + r): tames heavy listeners (Hu, Koren and Volinsky's log variant with ε = 1).</summary>
    Log,
    /// <summary>f(r) = 1 for any r &gt; 0: every interaction counts the same.</summary>
    Binary,
}
