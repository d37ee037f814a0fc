using RecSys.Bench.Experiments;

namespace RecSys.Tests.Bench;

/// <summary>serve-memory's least-squares split of a replica's memory into a base, a cost per user and a cost per track.</summary>
public sealed class ServeMemoryFitTests
{
    [Fact]
    public void Recovers_the_costs_of_exact_data_and_fits_noisy_data_in_the_least_squares_sense()
    {
        double Bytes(int users, int tracks) => 30e6 + 700 * users + 1650.0 * tracks;
        var exact = ServeMemoryExperiment.Fit([(10_000, 20_000, Bytes(10_000, 20_000)), (40_000, 20_000, Bytes(40_000, 20_000)), (10_000, 80_000, Bytes(10_000, 80_000))]);
        Tolerance.AssertClose(30e6, exact.Base, 1, 1e-6, "base");
        Tolerance.AssertClose(700, exact.PerUser, 1e-3, 1e-6, "per user");
        Tolerance.AssertClose(1650, exact.PerTrack, 1e-3, 1e-6, "per track");

        // Four points, one of them 1 MB high: the fit splits the error instead of passing through it.
        var noisy = ServeMemoryExperiment.Fit([.. new[] { (10_000, 20_000), (40_000, 20_000), (10_000, 80_000), (40_000, 80_000) }
            .Select((p, i) => (p.Item1, p.Item2, Bytes(p.Item1, p.Item2) + (i == 3 ? 1e6 : 0)))]);
        Assert.InRange(noisy.PerUser, 700, 700 + 1e6 / 30_000);
        Assert.InRange(noisy.PerTrack, 1650, 1650 + 1e6 / 60_000);
    }

    [Fact]
    public void Sizes_that_do_not_vary_users_and_tracks_apart_are_refused()
    {
        Assert.Throws<ArgumentException>(() => ServeMemoryExperiment.Fit([(10_000, 20_000, 1e8), (20_000, 40_000, 2e8), (40_000, 80_000, 4e8)]));
    }
}
