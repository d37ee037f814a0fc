using RecSys.Engine.Ann;
using RecSys.Engine.Compute;

namespace RecSys.Tests.Ann;

public sealed class NormOrderedItemsTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(31, 3)]
    [InlineData(32, 8)]
    [InlineData(33, 5)]
    public void Scan_order_falls_by_norm_ties_by_index_and_the_maps_invert(int count, int dims)
    {
        // Norms repeat (i % 5), so ties are many.
        var vectors = new float[count * dims];
        for (int i = 0; i < count; i++) vectors[i * dims] = i % 5;
        var items = new NormOrderedItems(vectors, dims);
        Assert.Equal(count, items.Count);
        for (int p = 0; p < count; p++)
        {
            Assert.Equal(p, items.Position[items.Order[p]]);
            Assert.Equal(items.Order[p] % 5, items.Norms[p]);
            if (p > 0) Assert.True(items.Norms[p - 1] > items.Norms[p] || (items.Norms[p - 1] == items.Norms[p] && items.Order[p - 1] < items.Order[p]));
        }
        // Tiles hold whole pairs of 16 rows; rows past the items are zeros.
        int rows = items.Tiles.Length / dims;
        Assert.Equal(0, rows % (TiledScores.Width * NormOrderedItems.TilePair));
        Assert.True(rows >= count && rows - count < TiledScores.Width * NormOrderedItems.TilePair);
        for (int p = 0; p < rows; p++)
        {
            int tile = p / TiledScores.Width, lane = p % TiledScores.Width;
            float first = items.Tiles[tile * TiledScores.Width * dims + lane];
            Assert.Equal(p < count ? vectors[items.Order[p] * dims] : 0f, first);
        }
    }

    [Fact]
    public void Sorted_positions_drop_unknown_items()
    {
        var items = new NormOrderedItems([3f, 1f, 2f], 1);
        var into = new int[5];
        int n = items.SortedPositions([1, -1, 0, 7, 2], into);
        Assert.Equal([0, 1, 2], into[..n]);
        Assert.Throws<ArgumentException>(() => new NormOrderedItems(new float[7], 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NormOrderedItems(new float[4], 0));
    }
}
