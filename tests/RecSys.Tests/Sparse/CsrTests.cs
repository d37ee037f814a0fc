using RecSys.Engine.Data;
using RecSys.Engine.Sparse;

namespace RecSys.Tests.Sparse;

public sealed class CsrTests
{
    private static InteractionTable RandomTable(int rows, int users, int items, ulong seed)
    {
        var rng = new SplitMix(seed);
        var t = new InteractionTable();
        for (int i = 0; i < rows; i++)
        {
            // Sparse, non-contiguous external ids, with plenty of duplicates.
            t.Add(1000 + rng.NextInt(users) * 37L, -5 + rng.NextInt(items) * 1_000_003L, rng.NextInt(5));
        }
        return t;
    }

    /// <summary>The naive reference: a dictionary of summed weights.</summary>
    private static SortedDictionary<(long, long), float> Naive(InteractionTable t)
    {
        var d = new SortedDictionary<(long, long), float>();
        for (int i = 0; i < t.Count; i++)
        {
            var key = (t.Users[i], t.Items[i]);
            d[key] = d.GetValueOrDefault(key) + t.Weights[i];
        }
        return d;
    }

    [Theory]
    [InlineData(0, 1, 1)]
    [InlineData(1, 1, 1)]
    [InlineData(17, 3, 5)]
    [InlineData(5_000, 97, 301)]
    [InlineData(40_000, 1_000, 50)]
    public void Build_matches_naive_with_duplicates_summed(int rows, int users, int items)
    {
        var table = RandomTable(rows, users, items, (ulong)rows);
        var m = InteractionMatrix.Build(table);
        var naive = Naive(table);

        Assert.Equal(naive.Count, m.Nnz);
        Assert.Equal(naive.Keys.Select(k => k.Item1).Distinct().Count(), m.Users.Count);
        Assert.Equal(naive.Keys.Select(k => k.Item2).Distinct().Count(), m.Items.Count);
        var built = new List<((long, long), float)>();
        for (int u = 0; u < m.UserItems.Rows; u++)
        {
            var idx = m.UserItems.RowIndices(u);
            var val = m.UserItems.RowValues(u);
            for (int k = 0; k < idx.Length; k++)
            {
                if (k > 0) Assert.True(idx[k] > idx[k - 1], "columns ascending and distinct");
                built.Add(((m.Users[u], m.Items[idx[k]]), val[k]));
            }
        }
        Assert.Equal(naive.Select(kv => (kv.Key, kv.Value)).ToList(), built);
    }

    [Fact]
    public void Ids_map_in_ascending_order_whatever_the_input_order()
    {
        var t = new InteractionTable();
        t.Add(30, 5, 1);
        t.Add(10, 7, 1);
        t.Add(20, 5, 1);
        var m = InteractionMatrix.Build(t);
        Assert.Equal([10L, 20L, 30L], m.Users.Ids.ToArray());
        Assert.Equal(1, m.Users.IndexOf(20));
        Assert.Equal(-1, m.Users.IndexOf(25));
    }

    [Fact]
    public void Transpose_matches_naive_and_round_trips()
    {
        var m = InteractionMatrix.Build(RandomTable(3_000, 50, 80, 3));
        var t = m.ItemUsers;
        Assert.Equal(m.UserItems.Cols, t.Rows);
        Assert.Equal(m.Nnz, t.Nnz);
        for (int i = 0; i < t.Rows; i++)
        {
            var users = t.RowIndices(i);
            for (int k = 0; k < users.Length; k++)
            {
                if (k > 0) Assert.True(users[k] > users[k - 1]);
                int pos = m.UserItems.RowIndices(users[k]).BinarySearch(i);
                Assert.True(pos >= 0);
                Assert.Equal(m.UserItems.RowValues(users[k])[pos], t.RowValues(i)[k]);
            }
        }
        var back = t.Transpose();
        Assert.Equal(m.UserItems.RowPtr, back.RowPtr);
        Assert.Equal(m.UserItems.ColIndices, back.ColIndices);
        Assert.Equal(m.UserItems.Values, back.Values);
    }

    [Fact]
    public void Out_of_range_coo_indices_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => CsrBuilder.FromCoo(2, 2, [0, 2], [0, 1], [1, 1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => CsrBuilder.FromCoo(2, 2, [0, 1], [0, -1], [1, 1]));
        Assert.Throws<ArgumentException>(() => CsrBuilder.FromCoo(2, 2, [0], [0, 1], [1, 1]));
    }

    [Fact]
    public void Duplicate_ids_in_a_distinct_map_are_named()
    {
        var e = Assert.Throws<ArgumentException>(() => IdMap.FromDistinct([5, 6, 5], "user id"));
        Assert.Contains("duplicate user id 5", e.Message);
        var map = IdMap.FromDistinct([9, 3, 7]);
        Assert.Equal(0, map.IndexOf(9));
        Assert.Equal(2, map.IndexOf(7));
    }
}
