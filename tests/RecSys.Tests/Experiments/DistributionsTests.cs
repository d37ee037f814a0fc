using RecSys.Engine.Experiments.Statistics;

namespace RecSys.Tests.Experiments;

/// <summary>The distribution functions against published values (exact closed forms where they exist); scipy checks the rest (<see cref="IndependentReportTests"/>).</summary>
public sealed class DistributionsTests
{
    [Theory]
    [InlineData(0.5, 0.5723649429247001)] // ln √π
    [InlineData(1, 0)]
    [InlineData(10, 12.801827480081469)] // ln 9!
    [InlineData(0.1, 2.252712651734206)]
    [InlineData(100, 359.1342053695754)] // ln 99!
    public void LogGamma_matches_known_values(double x, double expected)
    {
        Assert.Equal(expected, Distributions.LogGamma(x), 1e-12 * Math.Max(1, Math.Abs(expected)));
    }

    [Fact]
    public void Normal_distribution_and_quantile_match_known_values()
    {
        Assert.Equal(0.975, Distributions.NormalCdf(1.959963984540054), 1e-14);
        Assert.Equal(0.0013498980316300933, Distributions.NormalCdf(-3), 1e-16);
        Assert.Equal(0.5, Distributions.NormalCdf(0), 1e-15);
        Assert.Equal(1.959963984540054, Distributions.NormalQuantile(0.975), 1e-12);
        Assert.Equal(-6.361340902404056, Distributions.NormalQuantile(1e-10), 1e-9);
        for (double p = 0.001; p < 1; p += 0.0371) Assert.Equal(p, Distributions.NormalCdf(Distributions.NormalQuantile(p)), 1e-13);
    }

    [Fact]
    public void Student_t_matches_known_values()
    {
        Assert.Equal(0.05, Distributions.StudentTTwoSided(2.228138851986274, 10), 1e-12);
        Assert.Equal(0.05, Distributions.StudentTTwoSided(12.706204736174698, 1), 1e-12);
        // df = 1 is Cauchy: P(|T| ≥ 1) = 1/2; df = 2 has the closed form 1 − t/√(2 + t²).
        Assert.Equal(0.5, Distributions.StudentTTwoSided(1, 1), 1e-13);
        Assert.Equal(1 - 3 / Math.Sqrt(11), Distributions.StudentTTwoSided(3, 2), 1e-13);
        Assert.Equal(2.228138851986274, Distributions.StudentTQuantile(0.975, 10), 1e-9);
        Assert.Equal(-12.706204736174698, Distributions.StudentTQuantile(0.025, 1), 1e-8);
        // Large df tends to the normal.
        Assert.Equal(1.959963984540054, Distributions.StudentTQuantile(0.975, 1e9), 1e-5);
        Assert.Equal(1, Distributions.StudentTTwoSided(0, 7.3), 1e-14);
    }

    [Fact]
    public void Chi_square_and_incomplete_functions_match_closed_forms()
    {
        Assert.Equal(0.05, Distributions.ChiSquareSurvival(3.841458820694124, 1), 1e-12);
        // df = 2: e^{-x/2}.
        Assert.Equal(Math.Exp(-3.7), Distributions.ChiSquareSurvival(7.4, 2), 1e-14);
        Assert.Equal(0.01856613546304325, Distributions.ChiSquareSurvival(10, 3), 1e-12);
        Assert.Equal(11.0 / 16, Distributions.BetaRegularized(0.5, 2, 3), 1e-14);
        Assert.Equal(1 - Math.Pow(1 - 0.3, 4), Distributions.BetaRegularized(0.3, 1, 4), 1e-14);
        Assert.Equal(Math.Exp(-2.5), Distributions.GammaQ(1, 2.5), 1e-14);
        Assert.Throws<ArgumentOutOfRangeException>(() => Distributions.GammaQ(0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Distributions.BetaRegularized(1.5, 1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Distributions.NormalQuantile(1));
    }
}
