using RecSys.Engine.Data;
using RecSys.Engine.Sparse;

namespace RecSys.Tests.Als;

internal static class AlsTestData
{
    /// <summary>A row-major factor matrix of values uniform in [−0.5, 0.5).</summary>
    public static float[] RandomFactors(int rows, int k, ulong seed)
    {
        var rng = new SplitMix(seed);
        return Enumerable.Range(0, rows * k).Select(_ => rng.NextFloat() - 0.5f).ToArray();
    }

    /// <summary>A random sparse users × items count matrix.</summary>
    public static CsrMatrix Random(int users, int items, int nnz, ulong seed)
    {
        var rng = new SplitMix(seed);
        var rows = new int[nnz];
        var cols = new int[nnz];
        var vals = new float[nnz];
        for (int n = 0; n < nnz; n++)
        {
            rows[n] = rng.NextInt(users);
            cols[n] = rng.NextInt(items);
            vals[n] = 1 + rng.NextInt(5);
        }
        return CsrBuilder.FromCoo(users, items, rows, cols, vals);
    }

    /// <summary>
    /// Two taste groups: even users like even items, odd users odd items (a checkerboard). Every user
    /// has all of their group's items but one, which is held out.
    /// </summary>
    public static (CsrMatrix Train, int[] HeldOut) Checkerboard(int users, int items)
    {
        var rows = new List<int>();
        var cols = new List<int>();
        var heldOut = new int[users];
        for (int u = 0; u < users; u++)
        {
            var group = Enumerable.Range(0, items).Where(i => i % 2 == u % 2).ToArray();
            heldOut[u] = group[u / 2 % group.Length];
            foreach (int i in group)
            {
                if (i == heldOut[u]) continue;
                rows.Add(u);
                cols.Add(i);
            }
        }
        return (CsrBuilder.FromCoo(users, items, rows.ToArray(), cols.ToArray(), Enumerable.Repeat(1f, rows.Count).ToArray()), heldOut);
    }
}
