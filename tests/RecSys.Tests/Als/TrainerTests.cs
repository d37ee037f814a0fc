using RecSys.Engine.Als;
using RecSys.Engine.Recommend;
using RecSys.Engine.Sparse;
using RecSys.Engine.Training;

namespace RecSys.Tests.Als;

public sealed class TrainerTests
{
    private static AlsFactors Train(CsrMatrix raw, AlsOptions options) => ModelBuilder.Train(raw, options);

    private static readonly AlsOptions Plain = new() { Bm25 = false, Alpha = 3f, Regularization = 0.01f, Scaling = ConfidenceScaling.Linear };

    [Theory]
    [InlineData(AlsSolver.ConjugateGradient)]
    [InlineData(AlsSolver.Cholesky)]
    public void Checkerboard_held_out_item_ranks_first(AlsSolver solver)
    {
        var (train, heldOut) = AlsTestData.Checkerboard(users: 20, items: 12);
        var f = Train(train, Plain with { Factors = 4, Iterations = 20, Regularization = 0.01f, Solver = solver });
        for (int u = 0; u < 20; u++)
        {
            var scores = new float[12];
            RecSys.Engine.Compute.Kernels.MatVec(f.ItemFactors, 4, f.UserFactors.AsSpan(u * 4, 4), scores);
            foreach (int i in train.RowIndices(u)) scores[i] = float.NegativeInfinity;
            int best = Array.IndexOf(scores, scores.Max());
            Assert.True(best == heldOut[u], $"user {u}: ranked item {best} first, expected held-out {heldOut[u]}");
        }
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(1e-3f)]
    public void Reconstructs_the_preferences_with_little_regularization(float lambda)
    {
        // 6 users × 5 items, full-rank factors: X·Yᵀ must approach the 0/1 preference matrix.
        var rows = new[] { 0, 0, 1, 1, 2, 3, 3, 4, 5, 5, 5 };
        var cols = new[] { 0, 1, 1, 2, 3, 0, 4, 2, 1, 3, 4 };
        var raw = CsrBuilder.FromCoo(6, 5, rows, cols, Enumerable.Repeat(1f, rows.Length).ToArray());
        var f = Train(raw, Plain with { Factors = 6, Iterations = 40, Regularization = lambda, Solver = AlsSolver.Cholesky, Alpha = 10f });
        for (int u = 0; u < 6; u++)
        {
            for (int i = 0; i < 5; i++)
            {
                double s = 0;
                for (int j = 0; j < 6; j++) s += f.UserFactors[u * 6 + j] * f.ItemFactors[i * 6 + j];
                double p = raw.RowIndices(u).Contains(i) ? 1 : 0;
                Tolerance.AssertClose(p, s, 0.05, 0, $"x{u}·y{i}");
            }
        }
    }

    [Theory]
    [InlineData(AlsSolver.ConjugateGradient)]
    [InlineData(AlsSolver.Cholesky)]
    public void No_nan_with_empty_rows_single_interactions_huge_weights_and_more_factors_than_users(AlsSolver solver)
    {
        // User 0 empty, user 1 one interaction, user 2 a weight of 1e7; item 3 never played; 3 users, 16 factors.
        var raw = CsrBuilder.FromCoo(3, 4, [1, 2, 2], [0, 0, 1], [1f, 1e7f, 2f]);
        foreach (var scaling in new[] { ConfidenceScaling.Linear, ConfidenceScaling.Log, ConfidenceScaling.Binary })
        {
            foreach (bool bm25 in new[] { false, true })
            {
                var f = Train(raw, Plain with { Factors = 16, Iterations = 5, Solver = solver, Scaling = scaling, Bm25 = bm25, Regularization = 0.01f });
                Assert.All(f.UserFactors, v => Assert.True(float.IsFinite(v)));
                Assert.All(f.ItemFactors, v => Assert.True(float.IsFinite(v)));
            }
        }
    }

    [Fact]
    public void Same_seed_same_factors_for_any_thread_count_and_other_seed_differs()
    {
        var raw = AlsTestData.Random(500, 300, 6000, 1);
        var one = Train(raw, new AlsOptions { Factors = 24, Iterations = 3, Threads = 1 });
        var two = Train(raw, new AlsOptions { Factors = 24, Iterations = 3, Threads = 2 });
        var again = Train(raw, new AlsOptions { Factors = 24, Iterations = 3, Threads = 2 });
        Assert.Equal(one.UserFactors, two.UserFactors);
        Assert.Equal(one.ItemFactors, two.ItemFactors);
        Assert.Equal(two.ItemFactors, again.ItemFactors);
        var other = Train(raw, new AlsOptions { Factors = 24, Iterations = 3, Seed = 43 });
        Assert.NotEqual(one.ItemFactors, other.ItemFactors);
    }

    [Fact]
    public void Callback_reports_every_iteration_with_loss_when_asked()
    {
        var raw = AlsTestData.Random(50, 30, 300, 2);
        var reports = new List<IterationReport>();
        ModelBuilder.Train(raw, new AlsOptions { Factors = 4, Iterations = 4, CalculateLoss = true }, reports.Add);
        Assert.Equal([1, 2, 3, 4], reports.Select(r => r.Iteration));
        Assert.All(reports, r => Assert.True(r.Loss is > 0));
        Assert.True(reports[^1].Loss < reports[0].Loss);
    }

    [Theory]
    [InlineData("factors", 0)]
    [InlineData("iterations", -1)]
    [InlineData("cg_steps", 0)]
    [InlineData("regularization", -1)]
    [InlineData("alpha", float.NaN)]
    [InlineData("init_scale", 0)]
    public void Invalid_options_name_the_option(string name, float value)
    {
        var o = name switch
        {
            "factors" => new AlsOptions { Factors = (int)value },
            "iterations" => new AlsOptions { Iterations = (int)value },
            "cg_steps" => new AlsOptions { CgSteps = (int)value },
            "regularization" => new AlsOptions { Regularization = value },
            "alpha" => new AlsOptions { Alpha = value },
            _ => new AlsOptions { InitScale = value },
        };
        var e = Assert.Throws<ArgumentOutOfRangeException>(o.Validate);
        Assert.Equal(name, e.ParamName);
    }

    [Fact]
    public void Cancellation_stops_training()
    {
        var raw = AlsTestData.Random(50, 30, 300, 2);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => ModelBuilder.Train(raw, new AlsOptions(), null, cts.Token));
    }

    [Fact]
    public void Trained_model_recommends_the_checkerboard_group()
    {
        var (train, _) = AlsTestData.Checkerboard(users: 20, items: 12);
        var matrix = new InteractionMatrix(
            IdMap.FromDistinct(Enumerable.Range(0, 20).Select(i => (long)i + 1).ToArray()),
            IdMap.FromDistinct(Enumerable.Range(0, 12).Select(i => (long)i + 100).ToArray()),
            train);
        var options = Plain with { Factors = 4, Iterations = 15 };
        var model = ModelBuilder.Build(matrix, ModelBuilder.Train(train, options), options, "test");
        var rec = new Recommender(model);
        // User 3 (odd) has every odd item but its held-out one: that one must come first.
        Assert.Equal(1, rec.RecommendUser(3, 1)[0].Index % 2);
    }
}
