using RecSys.Bench.Regress;
using RecSys.Engine.Data;

namespace RecSys.Tests.Bench;

/// <summary>
/// The regression run's statistics: Mann–Whitney U against scipy 1.10.1
/// (<c>scipy.stats.mannwhitneyu(x, y, alternative="two-sided", method=…)</c>, Debian's python3-scipy) and, with
/// ties in small samples, against enumerating every split,
/// the verdicts at their thresholds, and the interleaving order.
/// </summary>
public sealed class RegressStatisticsTests
{
    public static TheoryData<double[], double[], double, double, bool> Scipy => new()
    {
        // x, y, U of x, two-sided p, exact
        { [1.1, 2.2, 3.3, 4.4, 5.5], [6, 7, 8, 9, 10.5], 0, 0.007936507936507936, true },
        { [3, 5, 1, 9, 7, 11], [2, 4, 6, 8, 10, 12, 14], 15, 0.4452214452214452, true },
        { [10.0, 11.5, 9.8, 12.1, 10.4, 11.0, 10.9, 9.5], [10.2, 10.1, 12.5, 13.0, 11.9, 12.2, 12.8, 11.7, 13.3], 12, 0.02064993829699712, true },
        { [.. Enumerable.Range(0, 50).Select(i => i * 0.37 % 5)], [.. Enumerable.Range(0, 45).Select(i => i * 0.53 % 5 + 0.4)], 964, 0.23158092562814692, false },
    };

    [Theory]
    [MemberData(nameof(Scipy))]
    public void Mann_whitney_matches_scipy(double[] x, double[] y, double u, double p, bool exact)
    {
        var result = MannWhitney.Test(x, y);
        Assert.Equal(u, result.U);
        Assert.Equal(exact, result.Exact);
        // Exact p is a ratio of counts; the asymptotic one goes through an erfc good to ~1e-7.
        Tolerance.AssertClose(p, result.P, exact ? 1e-12 : 1e-6, 0, "p");
        // Swapping the samples mirrors U and keeps p.
        var swapped = MannWhitney.Test(y, x);
        Assert.Equal(x.Length * y.Length - u, swapped.U);
        Tolerance.AssertClose(result.P, swapped.P, 1e-12, 0, "p swapped");
        // One-sided: without ties the two-sided p is twice the tail on U's side (scipy's alternative="less"
        // or "greater"), the other tail holds the rest, and swapping the samples swaps the tails.
        double smaller = u < x.Length * y.Length / 2.0 ? result.PLess : result.PGreater;
        double larger = u < x.Length * y.Length / 2.0 ? result.PGreater : result.PLess;
        Tolerance.AssertClose(p / 2, smaller, exact ? 1e-12 : 1e-6, 0, "one-sided p");
        Assert.True(larger > 0.5, $"the other tail {larger}");
        Tolerance.AssertClose(result.PGreater, swapped.PLess, 1e-12, 0, "tails swapped");
    }

    public static TheoryData<double[], double[], double, double> TiedByEnumeration => new()
    {
        // x, y, U of x, two-sided p: counted over every split (Python, itertools.combinations and Fractions).
        { [1, 2, 2, 3, 4], [2, 3, 3, 5, 6, 7], 6, 0.12121212121212122 },
        { [63, 63, 63], [64, 64, 64], 0, 0.1 },
        { [59, 57, 56, 57, 65, 67, 56, 59], [54, 60, 60, 57, 64, 65, 59, 56], 30.5, 0.8907536907536907 },
        { [1, 1, 1, 1], [1, 1, 1, 2, 2], 6, 0.5555555555555556 },
    };

    [Theory]
    [MemberData(nameof(TiedByEnumeration))]
    public void Small_samples_with_ties_get_the_exact_permutation_p(double[] x, double[] y, double u, double p)
    {
        var result = MannWhitney.Test(x, y);
        Assert.True(result.Exact);
        Assert.Equal(u, result.U);
        Tolerance.AssertClose(p, result.P, 1e-12, 0, "p");
    }

    [Fact]
    public void The_tied_recurrence_agrees_with_enumerating_every_split_over_seeded_samples()
    {
        var rng = new SplitMix(11);
        for (int trial = 0; trial < 40; trial++)
        {
            int m = 1 + rng.NextInt(6), n = 1 + rng.NextInt(6);
            // Values from a handful of levels, so ties are common.
            double[] x = [.. Enumerable.Range(0, m).Select(_ => (double)rng.NextInt(4))];
            double[] y = [.. Enumerable.Range(0, n).Select(_ => (double)rng.NextInt(4))];
            var (twoSided, less, greater) = Enumerated(x, y);
            var result = MannWhitney.Test(x, y);
            Tolerance.AssertClose(twoSided, result.P, 1e-12, 0, $"trial {trial}");
            Tolerance.AssertClose(less, result.PLess, 1e-12, 0, $"trial {trial}, P(U ≤ u)");
            Tolerance.AssertClose(greater, result.PGreater, 1e-12, 0, $"trial {trial}, P(U ≥ u)");
        }
    }

    /// <summary>The p-values by brute force: U of every choice of m values out of the pooled sample.</summary>
    private static (double TwoSided, double Less, double Greater) Enumerated(double[] x, double[] y)
    {
        double[] pooled = [.. x, .. y];
        double U(IEnumerable<int> chosen)
        {
            var set = chosen.ToHashSet();
            double u = 0;
            for (int i = 0; i < pooled.Length; i++)
            {
                if (!set.Contains(i)) continue;
                for (int j = 0; j < pooled.Length; j++)
                {
                    if (set.Contains(j)) continue;
                    u += pooled[i] > pooled[j] ? 1 : pooled[i] == pooled[j] ? 0.5 : 0;
                }
            }
            return u;
        }
        double observed = U(Enumerable.Range(0, x.Length));
        int below = 0, above = 0, total = 0;
        foreach (var subset in Subsets(pooled.Length, x.Length))
        {
            double u = U(subset);
            total++;
            if (u <= observed + 1e-9) below++;
            if (u >= observed - 1e-9) above++;
        }
        return (Math.Min(1, 2.0 * Math.Min(below, above) / total), (double)below / total, (double)above / total);
    }

    private static IEnumerable<int[]> Subsets(int n, int k)
    {
        if (k == 0)
        {
            yield return [];
            yield break;
        }
        for (int first = 0; first <= n - k; first++)
        {
            foreach (var rest in Subsets(n - first - 1, k - 1)) yield return [first, .. rest.Select(r => r + first + 1)];
        }
    }

    private static double[] Noisy(ref SplitMix rng, double scale, int n = 8, double sigma = 0.02)
    {
        var values = new double[n];
        for (int i = 0; i < n; i++) values[i] = scale * Math.Exp(sigma * rng.NextGaussian());
        return values;
    }

    [Fact]
    public void Times_are_judged_against_the_threshold_not_just_the_p_value()
    {
        var rng = new SplitMix(3);
        var time = MetricSpec.Time("t");
        var a = Noisy(ref rng, 100);
        Assert.Equal(Verdict.Regression, Comparison.Of(time, a, Noisy(ref rng, 112)).Verdict);
        Assert.Equal(Verdict.Improvement, Comparison.Of(time, a, Noisy(ref rng, 88)).Verdict);
        // Clearly different but inside 5 %: a move the run is told to ignore.
        var small = Comparison.Of(time, a, Noisy(ref rng, 103, sigma: 0.002));
        Assert.Equal(Verdict.Same, small.Verdict);
        Assert.True(small.P < 0.05, $"p {small.P}: the difference itself is significant");
        // A rate gets better higher.
        var rate = MetricSpec.Rate("qps", "1/s");
        Assert.Equal(Verdict.Regression, Comparison.Of(rate, a, Noisy(ref rng, 88)).Verdict);
        Assert.Equal(Verdict.Improvement, Comparison.Of(rate, a, Noisy(ref rng, 112)).Verdict);
    }

    [Fact]
    public void A_regression_is_a_one_sided_question()
    {
        // B beyond A moved 5% in 22 of 25 pairs: P(U ≥ 22) = 7/252 = 0.028 decides it, where a two-sided
        // test (0.056) would not; the p reported is the one that decided.
        var c = Comparison.Of(MetricSpec.Time("t"), [100, 101, 102, 103, 104], [106.5, 110, 111, 112, 113]);
        Assert.Equal(Verdict.Regression, c.Verdict);
        Tolerance.AssertClose(7.0 / 252, c.P!.Value, 1e-12, 0, "p");
        // The same samples as a rate (higher is better): now B is the better one.
        var rate = Comparison.Of(MetricSpec.Rate("r", "1/s"), [100, 101, 102, 103, 104], [106.5, 110, 111, 112, 113]);
        Assert.Equal(Verdict.Improvement, rate.Verdict);
    }

    [Fact]
    public void Too_few_runs_never_decide()
    {
        // Three against three: the smallest one-sided p is 1/20 = 0.05, not below α, so even a doubling is not a verdict.
        var time = MetricSpec.Time("t");
        var c = Comparison.Of(time, [100, 101, 99], [200, 201, 199]);
        Assert.Equal(Verdict.Same, c.Verdict);
        Assert.Equal(2.0, c.Ratio, 2);
    }

    [Fact]
    public void Deterministic_metrics_compare_exactly_at_the_absolute_threshold()
    {
        var ndcg = MetricSpec.Quality("ndcg");
        Assert.Equal(Verdict.Regression, Comparison.Of(ndcg, [0.3, 0.3, 0.3], [0.2949, 0.2949, 0.2949]).Verdict);
        Assert.Equal(Verdict.Same, Comparison.Of(ndcg, [0.3, 0.3, 0.3], [0.2951, 0.2951, 0.2951]).Verdict);
        Assert.Equal(Verdict.Same, Comparison.Of(ndcg, [0.3], [0.3049]).Verdict);
        Assert.Equal(Verdict.Improvement, Comparison.Of(ndcg, [0.3], [0.3051]).Verdict);
        var exact = Comparison.Of(ndcg, [0.3, 0.3], [0.29, 0.29]);
        Assert.Null(exact.P);
        Assert.Equal(exact.Ratio, exact.RatioLow);
        Assert.False(exact.Varied);
    }

    [Fact]
    public void A_deterministic_metric_that_varied_is_still_decided_on_its_medians_and_says_so()
    {
        var recall = MetricSpec.Quality("recall");
        var moved = Comparison.Of(recall, [0.95, 0.95], [0.93, 0.94]);
        Assert.Equal(Verdict.Regression, moved.Verdict);
        Assert.True(moved.Varied);
        Assert.Contains("exact, but it varied between runs", RegressReport.Markdown([moved]));
    }

    [Fact]
    public void Constant_times_still_go_through_the_test_so_one_look_never_decides_a_time()
    {
        // Whole-microsecond percentiles can repeat exactly: a time that did not vary is still tested
        // (a p, not "exact"), and 63 against 60 µs, 5 % on the nose, is no verdict.
        var p50 = MetricSpec.Time("p50", "µs");
        var c = Comparison.Of(p50, [60, 60, 60], [63, 63, 63]);
        Assert.NotNull(c.P);
        Assert.Equal(Verdict.Same, c.Verdict);
        Assert.Equal(Verdict.Regression, Comparison.Of(p50, [60, 60, 60, 60, 60], [70, 70, 70, 70, 70]).Verdict);
    }

    [Fact]
    public void The_interval_brackets_the_ratio_and_is_seeded()
    {
        var rng = new SplitMix(9);
        var a = Noisy(ref rng, 100);
        var b = Noisy(ref rng, 110);
        var one = Comparison.Of(MetricSpec.Time("t"), a, b);
        var two = Comparison.Of(MetricSpec.Time("t"), a, b);
        Assert.Equal((one.RatioLow, one.RatioHigh), (two.RatioLow, two.RatioHigh));
        Assert.InRange(one.Ratio, one.RatioLow, one.RatioHigh);
        Assert.InRange(one.RatioLow, 1.03, 1.10);
        Assert.InRange(one.RatioHigh, 1.10, 1.17);
    }

    [Fact]
    public void Builds_take_turns_in_every_round()
    {
        Assert.Equal([(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1)], RegressCommand.Schedule(3).ToArray());
    }

    [Fact]
    public void Markdown_lists_regressions_first()
    {
        var time = MetricSpec.Time("a-same");
        var rng = new SplitMix(1);
        var base_ = Noisy(ref rng, 100);
        var md = RegressReport.Markdown([Comparison.Of(time, base_, Noisy(ref rng, 100)), Comparison.Of(MetricSpec.Time("z-slow"), base_, Noisy(ref rng, 120))]);
        Assert.True(md.IndexOf("z-slow", StringComparison.Ordinal) < md.IndexOf("a-same", StringComparison.Ordinal));
        Assert.Contains("**regression**", md);
        Assert.Contains("2 metrics: 1 regressions, 0 improvements.", md);
    }
}
