using System.Buffers;
using System.Numerics.Tensors;
using RecSys.Engine.Compute;

namespace RecSys.Engine.Ann;

/// <summary>
/// Inner-product top-k by scanning items in order of falling norm and stopping once no item left can
/// win: q·y ≤ ‖q‖‖y‖ (Cauchy–Schwarz), so when ‖q‖ times the next norm is below the k-th best score
/// so far, the answer is exact. ALS factors of popular items have much larger norms than the long
/// tail's, so on skewed catalogs the scan ends after a few hundred items (docs/tuning.md).
/// <para>
/// A scan that has not ended after <see cref="Budget"/> items asks the <see cref="Fallback"/> (HNSW)
/// and keeps the better of both per item, so a user whose answers lie in the tail costs one graph
/// search, not a full scan. Without a fallback the budget makes the search approximate.
/// </para>
/// </summary>
public sealed class NormPrunedRetriever : IItemRetriever
{
    private const int Block = TiledScores.Width;

    private readonly NormOrderedItems _items;
    private readonly float[] _tiles;
    private readonly float[] _norms;
    private readonly int[] _order;
    private readonly int[] _position;

    /// <summary>The heap only: nothing per thread is sized by the catalog or refers to it.</summary>
    [ThreadStatic] private static TopK? t_heap;

    public NormPrunedRetriever(float[] vectors, int dimensions, int budget = int.MaxValue, IItemRetriever? fallback = null)
    {
        if (dimensions < 1 || vectors.Length % dimensions != 0) throw new ArgumentException("vector array is not a whole number of rows");
        ArgumentOutOfRangeException.ThrowIfLessThan(budget, 1);
        if (fallback is not null && (fallback.Metric != RetrievalMetric.InnerProduct || fallback.Count != vectors.Length / dimensions || fallback.Dimensions != dimensions))
        {
            throw new ArgumentException("the fallback must be an inner-product retriever over the same items", nameof(fallback));
        }
        Dimensions = dimensions;
        Count = vectors.Length / dimensions;
        Budget = budget;
        Fallback = fallback;
        _items = new NormOrderedItems(vectors, dimensions);
        (_tiles, _norms, _order, _position) = (_items.Tiles, _items.Norms, _items.Order, _items.Position);
    }

    public RetrievalMetric Metric => RetrievalMetric.InnerProduct;
    public int Count { get; }
    public int Dimensions { get; }

    /// <summary>Items scanned before the fallback is asked (or, without one, before the scan gives up).</summary>
    public int Budget { get; set; }

    public IItemRetriever? Fallback { get; }

    public ScoredIndex[] Search(ReadOnlySpan<float> query, int k, ReadOnlySpan<int> exclude = default)
    {
        if (query.Length != Dimensions) throw new ArgumentException($"query has {query.Length} dimensions, the index {Dimensions}");
        if (k <= 0 || Count == 0) return [];
        var heap = Heap(Math.Min(k, Count));
        var (scanned, exact) = Scan(query, exclude, heap);
        if (!exact && Fallback is not null)
        {
            foreach (var found in Fallback.Search(query, k, exclude))
            {
                // Items inside the scanned prefix are already in the heap (or lost to better ones).
                if (_position[found.Index] >= scanned) heap.Push(found.Score, found.Index);
            }
        }
        return heap.Drain();
    }

    /// <summary>The items a query row must not return (a user's heard tracks).</summary>
    public delegate ReadOnlySpan<int> Exclusions(int row);

    /// <summary>
    /// The share of <paramref name="queries"/> (row-major) whose top-k the scan proves exact within the
    /// budget, each query with its own exclusions: how often the fallback would be needed on such queries.
    /// </summary>
    public double ExactShare(ReadOnlySpan<float> queries, int k, Exclusions? exclusions = null)
    {
        int rows = queries.Length / Dimensions;
        if (rows == 0 || k <= 0 || Count == 0) return 1;
        var heap = Heap(Math.Min(k, Count));
        int exact = 0;
        for (int r = 0; r < rows; r++)
        {
            if (Scan(queries.Slice(r * Dimensions, Dimensions), exclusions is null ? default : exclusions(r), heap).Exact) exact++;
        }
        return (double)exact / rows;
    }

    /// <summary>
    /// Scans tiles until the bound proves the heap exact or the budget is spent. Exclusions are checked
    /// only for items that would enter the heap (a few dozen per query), against their scan positions
    /// sorted, so no per-query mark array the size of the catalog is needed.
    /// </summary>
    private (int Scanned, bool Exact) Scan(ReadOnlySpan<float> query, ReadOnlySpan<int> exclude, TopK heap)
    {
        heap.Clear();
        int[]? rented = null;
        Span<int> excluded = exclude.Length <= 256
            ? stackalloc int[exclude.Length]
            : (rented = ArrayPool<int>.Shared.Rent(exclude.Length)).AsSpan(0, exclude.Length);
        try
        {
            return ScanPositions(query, excluded[.._items.SortedPositions(exclude, excluded)], heap);
        }
        finally
        {
            if (rented is not null) ArrayPool<int>.Shared.Return(rented);
        }
    }

    private (int Scanned, bool Exact) ScanPositions(ReadOnlySpan<float> query, ReadOnlySpan<int> excludedPositions, TopK heap)
    {
        float queryNorm = TensorPrimitives.Norm(query) * (1 + NormOrderedItems.BoundSlack);
        Span<float> scores = stackalloc float[Block];
        int budget = Math.Min(Budget, Count);
        int nextExcluded = 0;
        int p = 0;
        while (p < Count)
        {
            if (heap.Count == heap.Capacity && queryNorm * _norms[p] < heap.WorstScore) return (p, true);
            if (p >= budget) return (p, false);
            TiledScores.Score(_tiles, p / Block, Dimensions, query, scores);
            int n = Math.Min(Block, Count - p);
            // Below the k-th best, an item cannot enter (an equal score may, on a lower index: Push decides).
            float bar = heap.Count == heap.Capacity ? heap.WorstScore : float.NegativeInfinity;
            for (int i = 0; i < n; i++)
            {
                if (scores[i] < bar) continue;
                int position = p + i;
                while (nextExcluded < excludedPositions.Length && excludedPositions[nextExcluded] < position) nextExcluded++;
                if (nextExcluded < excludedPositions.Length && excludedPositions[nextExcluded] == position) continue;
                heap.Push(scores[i], _order[position]);
                if (heap.Count == heap.Capacity) bar = heap.WorstScore;
            }
            p += n;
        }
        return (Count, true);
    }

    private static TopK Heap(int capacity)
    {
        var heap = t_heap;
        if (heap is null || heap.Capacity != capacity) t_heap = heap = new TopK(capacity);
        return heap;
    }
}
