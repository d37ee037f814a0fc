using RecSys.Engine.Data;
using RecSys.Engine.Sparse;

namespace RecSys.Engine.Evaluation;

/// <summary>A train/test pair with the same shape (same users and items) as the matrix it came from.</summary>
public sealed record Split(CsrMatrix Train, CsrMatrix Test);

/// <summary>Seeded train/test splits of a user × item matrix.</summary>
public static class Splits
{
    /// <summary>Each interaction goes to the test set with probability <paramref name="testFraction"/> (implicit's train_test_split).</summary>
    public static Split Random(CsrMatrix m, double testFraction, ulong seed)
    {
        CheckFraction(testFraction);
        var rng = new SplitMix(seed, 0x5EED);
        var inTest = new bool[m.Nnz];
        for (int n = 0; n < inTest.Length; n++) inTest[n] = rng.NextDouble() < testFraction;
        return Partition(m, inTest);
    }

    /// <summary>
    /// Per user, round(fraction · n) of their interactions (at least one) go to test, keeping at least one
    /// in train; users with a single interaction stay whole in train.
    /// </summary>
    public static Split PerUser(CsrMatrix m, double testFraction, ulong seed)
    {
        CheckFraction(testFraction);
        return PerRow(m, seed, n => n < 2 ? 0 : Math.Clamp((int)Math.Round(testFraction * n), 1, n - 1));
    }

    /// <summary>Per user with more than k interactions, k random ones go to test.</summary>
    public static Split LeaveKOut(CsrMatrix m, int k, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        return PerRow(m, seed, n => n > k ? k : 0);
    }

    private static Split PerRow(CsrMatrix m, ulong seed, Func<int, int> testCount)
    {
        var inTest = new bool[m.Nnz];
        var order = new List<int>();
        for (int r = 0; r < m.Rows; r++)
        {
            int n = m.RowLength(r);
            int t = testCount(n);
            if (t == 0) continue;
            var rng = new SplitMix(seed, (ulong)r + 1);
            order.Clear();
            for (int j = 0; j < n; j++) order.Add(j);
            for (int j = 0; j < t; j++)
            {
                int pick = j + rng.NextInt(n - j);
                (order[j], order[pick]) = (order[pick], order[j]);
                inTest[m.RowPtr[r] + order[j]] = true;
            }
        }
        return Partition(m, inTest);
    }

    private static Split Partition(CsrMatrix m, bool[] inTest)
    {
        int testNnz = inTest.Count(t => t);
        var trainPtr = new int[m.Rows + 1];
        var testPtr = new int[m.Rows + 1];
        var trainIdx = new int[m.Nnz - testNnz];
        var trainVal = new float[m.Nnz - testNnz];
        var testIdx = new int[testNnz];
        var testVal = new float[testNnz];
        int a = 0, b = 0;
        for (int r = 0; r < m.Rows; r++)
        {
            for (int n = m.RowPtr[r]; n < m.RowPtr[r + 1]; n++)
            {
                if (inTest[n])
                {
                    testIdx[b] = m.ColIndices[n];
                    testVal[b++] = m.Values[n];
                }
                else
                {
                    trainIdx[a] = m.ColIndices[n];
                    trainVal[a++] = m.Values[n];
                }
            }
            trainPtr[r + 1] = a;
            testPtr[r + 1] = b;
        }
        return new Split(
            new CsrMatrix(m.Rows, m.Cols, trainPtr, trainIdx, trainVal),
            new CsrMatrix(m.Rows, m.Cols, testPtr, testIdx, testVal));
    }

    private static void CheckFraction(double f)
    {
        if (!(f > 0 && f < 1)) throw new ArgumentOutOfRangeException(nameof(f), f, "test fraction must be in (0, 1)");
    }
}
