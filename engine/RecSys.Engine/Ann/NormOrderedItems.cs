using System.Numerics.Tensors;
using RecSys.Engine.Compute;

namespace RecSys.Engine.Ann;

/// <summary>
/// Item vectors in order of falling norm, tiled for <see cref="TiledScores"/> (padded with zero rows to
/// a whole number of <see cref="TilePair"/>s), with the norms in that order and the maps between scan
/// positions and items. Equal norms go by index, so the order — and every tie it decides — is deterministic.
/// The scan order of <see cref="NormPrunedRetriever"/> (one query) and of <c>BatchRecommender</c> (many).
/// </summary>
public sealed class NormOrderedItems
{
    /// <summary>Tiles are padded to a multiple of this many, so a kernel may always score two at once.</summary>
    public const int TilePair = 2;

    /// <summary>Float rounding of a dot product may exceed ‖q‖‖y‖ by a few ulps; a norm bound is widened by this.</summary>
    public const float BoundSlack = 1e-5f;

    public NormOrderedItems(float[] vectors, int dimensions)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        if (vectors.Length % dimensions != 0) throw new ArgumentException($"{vectors.Length} values are not a whole number of rows of {dimensions}", nameof(vectors));
        Dimensions = dimensions;
        Count = vectors.Length / dimensions;
        var norms = new float[Count];
        for (int i = 0; i < Count; i++) norms[i] = TensorPrimitives.Norm(vectors.AsSpan(i * dimensions, dimensions));
        Order = new int[Count];
        for (int i = 0; i < Count; i++) Order[i] = i;
        Array.Sort(Order, (a, b) => norms[a] != norms[b] ? norms[b].CompareTo(norms[a]) : a.CompareTo(b));
        Position = new int[Count];
        Norms = new float[Count];
        int rows = (Count + TiledScores.Width * TilePair - 1) / (TiledScores.Width * TilePair) * TiledScores.Width * TilePair;
        var sorted = new float[(long)rows * dimensions];
        for (int p = 0; p < Count; p++)
        {
            int item = Order[p];
            Position[item] = p;
            Norms[p] = norms[item];
            vectors.AsSpan(item * dimensions, dimensions).CopyTo(sorted.AsSpan(p * dimensions, dimensions));
        }
        Tiles = TiledScores.Tile(sorted, dimensions);
    }

    public int Count { get; }
    public int Dimensions { get; }

    /// <summary>The vectors in scan order, in tiles of <see cref="TiledScores.Width"/>.</summary>
    public float[] Tiles { get; }

    /// <summary>Norms[p]: the norm of the item at scan position p (falling).</summary>
    public float[] Norms { get; }

    /// <summary>Order[p]: the item at scan position p.</summary>
    public int[] Order { get; }

    /// <summary>Position[item]: the scan position of an item.</summary>
    public int[] Position { get; }

    /// <summary>The scan positions of <paramref name="items"/> (unknown ones dropped), sorted, in <paramref name="into"/>; returns how many.</summary>
    public int SortedPositions(ReadOnlySpan<int> items, Span<int> into)
    {
        int n = 0;
        foreach (int item in items)
        {
            if ((uint)item < (uint)Position.Length) into[n++] = Position[item];
        }
        into[..n].Sort();
        return n;
    }
}
