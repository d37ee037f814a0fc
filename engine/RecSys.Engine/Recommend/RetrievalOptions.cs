using RecSys.Engine.Ann;

namespace RecSys.Engine.Recommend;

/// <summary>
/// When and how the recommender uses HNSW instead of an exact scan (docs/tuning.md has the
/// measurements behind the defaults).
/// </summary>
public sealed record RetrievalOptions
{
    /// <summary>Catalog size from which HNSW answers; smaller catalogs are scanned exactly (faster there).</summary>
    public int AnnThreshold { get; init; } = 2_000;

    /// <summary>Graph parameters (M, ef_construction, seed, build threads).</summary>
    public HnswOptions Hnsw { get; init; } = new();

    /// <summary>ef for user top-N (inner product).</summary>
    public int EfSearchInnerProduct { get; init; } = 64;

    /// <summary>ef for similar tracks (cosine).</summary>
    public int EfSearchCosine { get; init; } = 32;

    /// <summary>
    /// Items the norm-ordered scan reads for a user before asking the inner-product graph; 0 turns the
    /// scan off (graph alone). About what one graph search at ef 64 costs in scanned items (docs/tuning.md).
    /// </summary>
    public int NormScanBudget { get; init; } = 16_384;

    /// <summary>
    /// The scan is used when at least this share of sampled users' top-20 is proven exact within the
    /// budget (otherwise most queries would pay for the scan and the graph).
    /// </summary>
    public double NormScanMinExactShare { get; init; } = 0.5;

    /// <summary>
    /// Length of the lists precomputed when a model loads: every known user's top-N and every track's
    /// similar tracks, so requests up to this limit are a lookup instead of a search; 0 turns them off.
    /// Memory: (users + tracks) × length × 8 bytes (docs/tuning.md).
    /// </summary>
    public int PrecomputedLength { get; init; } = 20;

    /// <summary>How the inner-product graph is built.</summary>
    public InnerProductMode InnerProductMode { get; init; } = InnerProductMode.Native;

    public void Validate()
    {
        if (AnnThreshold < 0) throw new ArgumentOutOfRangeException(nameof(AnnThreshold), AnnThreshold, "ann threshold must be >= 0");
        if (EfSearchInnerProduct < 1) throw new ArgumentOutOfRangeException(nameof(EfSearchInnerProduct), EfSearchInnerProduct, "ef must be >= 1");
        if (EfSearchCosine < 1) throw new ArgumentOutOfRangeException(nameof(EfSearchCosine), EfSearchCosine, "ef must be >= 1");
        if (NormScanBudget < 0) throw new ArgumentOutOfRangeException(nameof(NormScanBudget), NormScanBudget, "norm scan budget must be >= 0 (0 turns it off)");
        if (PrecomputedLength is < 0 or > 1000) throw new ArgumentOutOfRangeException(nameof(PrecomputedLength), PrecomputedLength, "must be between 0 (off) and 1000");
        if (!(NormScanMinExactShare >= 0 && NormScanMinExactShare <= 1)) throw new ArgumentOutOfRangeException(nameof(NormScanMinExactShare), NormScanMinExactShare, "must be between 0 and 1");
        Hnsw.Validate();
    }
}
