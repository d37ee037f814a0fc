namespace RecSys.Bench.Regress;

/// <summary>
/// The Mann–Whitney U test: whether one sample's values tend to be larger than the other's (two-sided),
/// or larger (one-sided, <see cref="Result.PGreater"/>), with no assumption about their distribution (timings on a shared machine are skewed and heavy-tailed).
/// When both samples are small the p is exact: with no ties from the distribution of U as
/// scipy.stats.mannwhitneyu computes it with <c>method="exact"</c>; with ties (whole-microsecond latency
/// percentiles repeat) from U's distribution over every split of the tied mid-ranks, the permutation
/// test, because the normal approximation is too bold there (3 against 3 fully separated, it gives
/// 0.047 where the exact p is 0.1). Larger samples use the normal approximation with tie and
/// continuity corrections, as <c>method="asymptotic"</c> does.
/// </summary>
public static class MannWhitney
{
    /// <summary>Largest sample size for which the exact distribution is computed.</summary>
    public const int ExactLimit = 40;

    /// <summary>
    /// U of x; the two-sided p; <paramref name="PGreater"/>, the one-sided p that x tends to be larger than
    /// y (the chance under the null of a U at least this large), and <paramref name="PLess"/>, smaller.
    /// </summary>
    public readonly record struct Result(double U, double P, bool Exact, double PGreater, double PLess);

    /// <summary>P(U ≤ u) and P(U ≥ u) under the null: the two tails every p is made of.</summary>
    private readonly record struct Tails(double Below, double Above)
    {
        public double TwoSided => Math.Min(1, 2 * Math.Min(Below, Above));
    }

    /// <summary>U of <paramref name="x"/> (pairs where x is larger, ties counting half) and its p-values.</summary>
    public static Result Test(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        int m = x.Count, n = y.Count;
        if (m == 0 || n == 0) throw new ArgumentException("both samples need at least one value");
        var (ranks, tieTerm) = Ranks(x.Concat(y).ToArray());
        double rankSum = ranks.Take(m).Sum();
        double u = rankSum - m * (m + 1) / 2.0;
        bool exact = m <= ExactLimit && n <= ExactLimit;
        var tails = !exact ? AsymptoticTails(u, m, n, tieTerm) : tieTerm == 0 ? ExactTails(u, m, n) : ExactTiedTails(ranks, m, rankSum);
        return new Result(u, tails.TwoSided, exact, Math.Min(1, tails.Above), Math.Min(1, tails.Below));
    }

    /// <summary>
    /// Exact tails with ties: how many of the C(m + n, m) ways to pick m of the mid-ranks give a rank sum
    /// at most, and at least, <paramref name="rankSum"/>, counted by a subset-sum recurrence over
    /// doubled ranks (whole numbers; at most (m + n)(m + n + 1)).
    /// </summary>
    private static Tails ExactTiedTails(double[] ranks, int m, double rankSum)
    {
        int[] doubled = [.. ranks.Select(r => (int)Math.Round(2 * r))];
        int maxSum = doubled.Sum();
        // ways[k][s]: subsets of k of the ranks seen so far whose doubled sum is s.
        var ways = new double[m + 1][];
        for (int k = 0; k <= m; k++) ways[k] = new double[maxSum + 1];
        ways[0][0] = 1;
        foreach (int r in doubled)
        {
            for (int k = m; k >= 1; k--)
            {
                var into = ways[k];
                var from = ways[k - 1];
                for (int s = maxSum; s >= r; s--) into[s] += from[s - r];
            }
        }
        int observed = (int)Math.Round(2 * rankSum);
        double below = 0, above = 0, total = 0;
        for (int s = 0; s <= maxSum; s++)
        {
            double w = ways[m][s];
            total += w;
            if (s <= observed) below += w;
            if (s >= observed) above += w;
        }
        return new Tails(below / total, above / total);
    }

    /// <summary>Exact tails of U's distribution under the null, without ties.</summary>
    private static Tails ExactTails(double u, int m, int n)
    {
        // counts[v] = arrangements of m x's among m + n values whose U is v (the classic recurrence, built up over n).
        var counts = Distribution(m, n);
        double total = counts.Sum();
        int k = (int)Math.Round(u);
        double below = 0, above = 0;
        for (int v = 0; v < counts.Length; v++)
        {
            if (v <= k) below += counts[v];
            if (v >= k) above += counts[v];
        }
        return new Tails(below / total, above / total);
    }

    /// <summary>Frequencies of U = 0 .. m·n over all C(m + n, m) arrangements.</summary>
    private static double[] Distribution(int m, int n)
    {
        // f[i][j][v]: arrangements of i x's and j y's with U = v; f(i, j) = f(i − 1, j) shifted by j + f(i, j − 1).
        var previous = new double[n + 1][];
        for (int j = 0; j <= n; j++) previous[j] = [1]; // i = 0: U is 0
        for (int i = 1; i <= m; i++)
        {
            var current = new double[n + 1][];
            current[0] = [1];
            for (int j = 1; j <= n; j++)
            {
                var f = new double[i * j + 1];
                var withoutX = previous[j];         // the largest value is an x: it beats all j y's
                for (int v = 0; v < withoutX.Length; v++) f[v + j] += withoutX[v];
                var withoutY = current[j - 1];      // the largest value is a y
                for (int v = 0; v < withoutY.Length; v++) f[v] += withoutY[v];
                current[j] = f;
            }
            previous = current;
        }
        return previous[n];
    }

    private static Tails AsymptoticTails(double u, int m, int n, double tieTerm)
    {
        double N = m + n;
        double mean = m * n / 2.0;
        double variance = m * n / 12.0 * (N + 1 - tieTerm / (N * (N - 1)));
        if (variance <= 0) return new Tails(1, 1);
        // Continuity correction towards the mean, as scipy's default.
        double sd = Math.Sqrt(variance);
        return new Tails(NormalUpperTail((mean - u - 0.5) / sd), NormalUpperTail((u - mean - 0.5) / sd));
    }

    /// <summary>Mid-ranks (1-based) and Σ(t³ − t) over groups of ties.</summary>
    private static (double[] Ranks, double TieTerm) Ranks(double[] values)
    {
        int[] order = [.. Enumerable.Range(0, values.Length).OrderBy(i => values[i])];
        var ranks = new double[values.Length];
        double tieTerm = 0;
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && values[order[end + 1]] == values[order[start]]) end++;
            double rank = (start + end) / 2.0 + 1;
            for (int i = start; i <= end; i++) ranks[order[i]] = rank;
            double t = end - start + 1;
            tieTerm += t * t * t - t;
            start = end + 1;
        }
        return (ranks, tieTerm);
    }

    /// <summary>P(Z > z) for a standard normal.</summary>
    internal static double NormalUpperTail(double z) => 0.5 * Erfc(z / Math.Sqrt(2));

    /// <summary>The complementary error function, to about 1e-7 relative (Numerical Recipes' erfcc, Chebyshev fit).</summary>
    internal static double Erfc(double x)
    {
        double z = Math.Abs(x);
        double t = 1 / (1 + 0.5 * z);
        double r = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
            + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? r : 2 - r;
    }
}
