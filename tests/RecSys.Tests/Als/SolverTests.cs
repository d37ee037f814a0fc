using RecSys.Engine.Als;
using RecSys.Engine.Data;
using RecSys.Engine.Sparse;

namespace RecSys.Tests.Als;

public sealed class SolverTests
{
    [Theory]
    [InlineData(3, 5)]
    [InlineData(8, 20)]
    [InlineData(17, 40)]
    [InlineData(64, 300)]
    [InlineData(65, 100)]
    public void Cg_with_k_steps_reaches_the_cholesky_solution(int k, int items)
    {
        // In exact arithmetic CG solves a k × k system in k steps; in float it gets within 1e-3 relative.
        var y = AlsTestData.RandomFactors(items, k, (ulong)k);
        float[] gram = Gramian.Compute(y, items, k, 0.1f, 1);
        var rng = new SplitMix(9);
        int[] idx = Enumerable.Range(0, items).Where(_ => rng.NextDouble() < 0.3).ToArray();
        float[] conf = idx.Select(_ => 1 + 10 * rng.NextFloat()).ToArray();

        var exact = new float[k];
        Assert.True(Cholesky.SolveRow(gram, y, k, idx, conf, exact, new Cholesky.Scratch(k)));
        var cg = new float[k];
        ConjugateGradient.SolveRow(gram, y, k, idx, conf, cg, steps: 4 * k, new ConjugateGradient.Scratch(k));
        double scale = exact.Max(Math.Abs);
        Tolerance.AssertClose(exact, cg, 1e-3 * scale, 1e-3, $"k={k}");
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(1, 3)]
    [InlineData(2, 1)]
    [InlineData(3, 7)]
    [InlineData(16, 16)]
    [InlineData(17, 50)]
    [InlineData(33, 1)]
    [InlineData(64, 120)]
    [InlineData(65, 300)]
    [InlineData(128, 40)]
    public void The_vectorised_row_solve_matches_the_scalar_loops(int k, int rated)
    {
        // Same system, other summation order: agreement to float precision of the result (1e-5 relative to its largest entry).
        var y = AlsTestData.RandomFactors(400, k, (ulong)(k * 1000 + rated));
        float[] gram = Gramian.Compute(y, 400, k, 0.05f, 1);
        var rng = new SplitMix((ulong)rated);
        int[] idx = Enumerable.Range(0, rated).Select(_ => rng.NextInt(400)).Distinct().ToArray();
        float[] conf = idx.Select(_ => 1 + 40 * rng.NextFloat()).ToArray();
        var scalar = new float[k];
        var vector = new float[k];
        Assert.True(Cholesky.SolveRowScalar(gram, y, k, idx, conf, scalar, new Cholesky.Scratch(k)));
        Assert.True(Cholesky.SolveRow(gram, y, k, idx, conf, vector, new Cholesky.Scratch(k)));
        double scale = Math.Max(1e-30, scalar.Max(Math.Abs));
        Tolerance.AssertClose(scalar, vector, 1e-5 * scale, 1e-5, $"k={k}, {idx.Length} rated");
    }

    [Fact]
    public void Cholesky_solves_a_known_system_and_refuses_an_indefinite_one()
    {
        double[] a = [4, 2, 2, 3];
        double[] b = [2, 1];
        var x = new double[2];
        Assert.True(Cholesky.Solve(a, b, 2, x));
        Assert.Equal(0.5, x[0], 12);
        Assert.Equal(0.0, x[1], 12);
        Assert.False(Cholesky.Solve([1, 2, 2, 1], [1, 1], 2, new double[2]));
    }

    [Fact]
    public void Gramian_matches_naive_and_is_independent_of_threads()
    {
        const int rows = 5000, k = 33;
        var y = AlsTestData.RandomFactors(rows, k, 4);
        var one = Gramian.Compute(y, rows, k, 0.5f, 1);
        var two = Gramian.Compute(y, rows, k, 0.5f, 2);
        Assert.Equal(one, two);
        for (int a = 0; a < k; a++)
        {
            for (int c = 0; c < k; c++)
            {
                double s = a == c ? 0.5 : 0;
                for (int r = 0; r < rows; r++) s += (double)y[r * k + a] * y[r * k + c];
                Tolerance.AssertClose(s, one[a * k + c], 1e-3, 1e-4, $"G[{a},{c}]");
            }
        }
    }

    [Theory]
    [InlineData(AlsSolver.ConjugateGradient)]
    [InlineData(AlsSolver.Cholesky)]
    public void Cg_training_tracks_the_exact_solver(AlsSolver solver)
    {
        var raw = AlsTestData.Random(60, 40, 500, 5);
        var c = Confidence.Weight(raw, ConfidenceScaling.Linear, 3f);
        var options = new AlsOptions { Factors = 8, Iterations = 10, Regularization = 0.1f, Solver = solver, CgSteps = 8, CalculateLoss = true, Threads = 1 };
        var f = new AlsTrainer(options).Fit(c, c.Transpose());
        var exact = new AlsTrainer(options with { Solver = AlsSolver.Cholesky }).Fit(c, c.Transpose());
        // Loss within 1% of the exact solver's, and never increasing by more than float noise.
        Tolerance.AssertClose(exact.Losses[^1], f.Losses[^1], 0, 0.01, "final loss");
        for (int i = 1; i < f.Losses.Count; i++) Assert.True(f.Losses[i] <= f.Losses[i - 1] * 1.001, $"loss rose at iteration {i + 1}");
    }
}
