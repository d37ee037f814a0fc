using RecSys.Engine.Als;
using RecSys.Engine.Data;
using RecSys.Engine.Model;
using RecSys.Engine.Recommend;
using RecSys.Engine.Sparse;

namespace RecSys.Tests.Als;

/// <summary>
/// Frequency-scaled regularization and the unobserved weight against an oracle built from the
/// definition: (α₀·YᵀY + Σ (c − α₀)·y·yᵀ + λ·(n + offset)^ν·I)·x = Σ c·y, formed literally in double
/// and solved by Cholesky, independent of how the solvers fold α₀ into the confidences.
/// </summary>
public sealed class RowRegularizationTests
{
    /// <summary>The row's solution from the literal system.</summary>
    private static double[] Oracle(float[] y, int rows, int k, int[] idx, float[] conf, float lambda, float exponent, float offset, float unobserved)
    {
        var a = new double[k * k];
        var b = new double[k];
        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < k; i++)
            {
                for (int j = 0; j < k; j++) a[i * k + j] += unobserved * (double)y[r * k + i] * y[r * k + j];
            }
        }
        for (int n = 0; n < idx.Length; n++)
        {
            for (int i = 0; i < k; i++)
            {
                b[i] += conf[n] * (double)y[idx[n] * k + i];
                for (int j = 0; j < k; j++) a[i * k + j] += (conf[n] - unobserved) * (double)y[idx[n] * k + i] * y[idx[n] * k + j];
            }
        }
        double rowLambda = lambda * Math.Pow(idx.Length + offset, exponent);
        for (int i = 0; i < k; i++) a[i * k + i] += rowLambda;
        var x = new double[k];
        Assert.True(Cholesky.Solve(a, b, k, x));
        return x;
    }

    public static TheoryData<int, float, float> Cases => new()
    {
        { 1, 1f, 1f }, { 7, 0.5f, 1f }, { 16, 1f, 0.1f }, { 16, 0f, 3f }, { 64, 1f, 0.25f }, { 33, 0.75f, 2f },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Both_solvers_solve_the_defined_system(int k, float exponent, float unobserved)
    {
        const int items = 300;
        const float lambda = 0.3f, offset = 2f;
        var y = AlsTestData.RandomFactors(items, k, (ulong)(k * 31 + 7));
        var rng = new SplitMix((ulong)k);
        int[] idx = Enumerable.Range(0, items).Where(_ => rng.NextDouble() < 0.2).ToArray();
        float[] conf = idx.Select(_ => 1 + 5 * rng.NextFloat()).ToArray();
        var expected = Oracle(y, items, k, idx, conf, lambda, exponent, offset, unobserved);
        double scale = expected.Max(Math.Abs);

        var reg = new RowRegularization(lambda, exponent, offset, unobserved);
        float[] gram = Gramian.Compute(y, items, k, reg.GramDiagonal, 1);
        float[] scaled = conf.Select(c => c * reg.ConfidenceScale).ToArray();
        var cholesky = new float[k];
        Assert.True(Cholesky.SolveRow(gram, y, k, idx, scaled, cholesky, new Cholesky.Scratch(k), reg.RowDiagonal(idx.Length)));
        Tolerance.AssertClose(expected.Select(v => (float)v).ToArray(), cholesky, 1e-4 * scale, 1e-3, $"cholesky k={k}");
        var scalar = new float[k];
        Assert.True(Cholesky.SolveRowScalar(gram, y, k, idx, scaled, scalar, new Cholesky.Scratch(k), reg.RowDiagonal(idx.Length)));
        Tolerance.AssertClose(expected.Select(v => (float)v).ToArray(), scalar, 1e-4 * scale, 1e-3, $"scalar cholesky k={k}");
        var cg = new float[k];
        ConjugateGradient.SolveRow(gram, y, k, idx, scaled, cg, steps: 4 * k, new ConjugateGradient.Scratch(k), reg.RowDiagonal(idx.Length));
        Tolerance.AssertClose(expected.Select(v => (float)v).ToArray(), cg, 1e-3 * scale, 1e-3, $"cg k={k}");
    }

    [Fact]
    public void The_classic_settings_put_lambda_in_the_gram_and_scale_nothing()
    {
        var classic = RowRegularization.From(new AlsOptions { Regularization = 7 });
        Assert.True(classic.Uniform);
        Assert.False(classic.ScalesConfidence);
        Assert.Equal(7f, classic.GramDiagonal);
        Assert.Equal(0f, classic.RowDiagonal(123));
        var scaled = new RowRegularization(2, 1, 1, 0.5f);
        Assert.Equal(0f, scaled.GramDiagonal);
        Assert.Equal(2 * 11 / 0.5f, scaled.RowDiagonal(10), 4);
    }

    [Fact]
    public void A_trained_item_row_solves_the_defined_system_against_the_final_user_factors()
    {
        // Items are solved last in an iteration: each item row is the exact solution (Cholesky solver)
        // of its own system given the user factors the training returns.
        var raw = AlsTestData.Random(40, 30, 300, seed: 5);
        var options = new AlsOptions { Factors = 5, Iterations = 3, Regularization = 0.2f, RegularizationExponent = 1, RegularizationOffset = 1,
            UnobservedWeight = 0.3f, Solver = AlsSolver.Cholesky, Bm25 = false, Alpha = 2f, Threads = 1 };
        var confidence = Confidence.Weight(raw, options.Scaling, options.Alpha);
        var itemUsers = confidence.Transpose();
        var f = new AlsTrainer(options).Fit(confidence, itemUsers);
        for (int i = 0; i < itemUsers.Rows; i++)
        {
            int[] users = itemUsers.RowIndices(i).ToArray();
            var expected = Oracle(f.UserFactors, confidence.Rows, 5, users, itemUsers.RowValues(i).ToArray(), 0.2f, 1, 1, 0.3f);
            double scale = Math.Max(1e-6, expected.Max(Math.Abs));
            Tolerance.AssertClose(expected.Select(v => (float)v).ToArray(), f.ItemFactors.AsSpan(i * 5, 5).ToArray(), 1e-4 * scale, 1e-3, $"item {i}");
        }
    }

    [Fact]
    public void Fold_in_solves_the_system_the_model_was_trained_with()
    {
        var data = DemoCatalog.Generate(new DemoOptions { Users = 200, Tracks = 600, Plays = 15_000, Seed = 8 }).ToInteractions();
        var matrix = InteractionMatrix.Build(data.Table);
        var options = new AlsOptions { Factors = 8, Iterations = 4, Bm25 = false, Alpha = 1f, Regularization = 0.5f, RegularizationExponent = 0.8f, RegularizationOffset = 3f, UnobservedWeight = 0.4f };
        var model = RecSys.Engine.Training.ModelBuilder.Build(matrix, RecSys.Engine.Training.ModelBuilder.Train(matrix.UserItems, options), options, data.Source);
        var recommender = new Recommender(model);
        int[] items = [3, 40, 41, 200, model.ItemCount - 1];
        float[] plays = [1, 4, 2, 1, 7];
        var expected = Oracle(model.ItemFactors, model.ItemCount, 8, items, plays.Select(p => Confidence.Apply(p, options.Scaling, options.Alpha)).ToArray(), 0.5f, 0.8f, 3f, 0.4f);
        var folded = recommender.FoldIn(items, plays);
        Tolerance.AssertClose(expected.Select(v => (float)v).ToArray(), folded, 1e-4 * expected.Max(Math.Abs), 1e-3, "fold-in");
    }

    [Theory]
    [InlineData(0f, 1f)]
    [InlineData(1f, 0.3f)]
    [InlineData(0.5f, 4f)]
    public void The_loss_is_the_objective_summed_over_every_pair(float exponent, float unobserved)
    {
        // Every user-item pair written out: c·(1 − s)² observed, α₀·s² unobserved, λ·(n + 2)^ν per row.
        const int users = 9, items = 7, k = 3;
        const float lambda = 0.4f, offset = 2f;
        var c = Confidence.Weight(AlsTestData.Random(users, items, 25, seed: 3), ConfidenceScaling.Linear, 2f);
        var x = AlsTestData.RandomFactors(users, k, 1);
        var y = AlsTestData.RandomFactors(items, k, 2);
        double sum = 0, weight = 0;
        var listeners = new int[items];
        for (int u = 0; u < users; u++)
        {
            var idx = c.RowIndices(u).ToArray();
            var conf = c.RowValues(u).ToArray();
            for (int i = 0; i < items; i++)
            {
                double s = 0;
                for (int f = 0; f < k; f++) s += (double)x[u * k + f] * y[i * k + f];
                int at = Array.IndexOf(idx, i);
                double w = at >= 0 ? conf[at] : unobserved;
                sum += w * (at >= 0 ? (1 - s) * (1 - s) : s * s);
                weight += w;
                if (at >= 0) listeners[i]++;
            }
            sum += lambda * Math.Pow(idx.Length + offset, exponent) * SquaredNorm(x, u, k);
        }
        for (int i = 0; i < items; i++) sum += lambda * Math.Pow(listeners[i] + offset, exponent) * SquaredNorm(y, i, k);
        double loss = TrainingLoss.Compute(c, x, y, k, new RowRegularization(lambda, exponent, offset, unobserved), 1);
        Assert.Equal(sum / weight, loss, 5);
    }

    private static double SquaredNorm(float[] m, int row, int k) => Enumerable.Range(0, k).Sum(f => (double)m[row * k + f] * m[row * k + f]);

    [Fact]
    public void Fold_in_weights_plays_with_the_models_bm25_k1_and_b()
    {
        var data = DemoCatalog.Generate(new DemoOptions { Users = 200, Tracks = 600, Plays = 15_000, Seed = 8 }).ToInteractions();
        var matrix = InteractionMatrix.Build(data.Table);
        var options = new AlsOptions { Factors = 6, Iterations = 3, Bm25 = true, Bm25K1 = 7f, Bm25B = 0.4f, Alpha = 0.5f, Regularization = 2f };
        var model = RecSys.Engine.Training.ModelBuilder.Build(matrix, RecSys.Engine.Training.ModelBuilder.Train(matrix.UserItems, options), options, data.Source);
        var parameters = TrainingParameters.FromJson(model.ParametersJson)!;
        Assert.Equal((7f, 0.4f), (parameters.Bm25K1, parameters.Bm25B));
        int[] items = [1, 5, 9];
        float[] plays = [2, 1, 4];
        var popularity = model.ItemPopularity!;
        float[] confidence = [.. items.Select((item, n) => Confidence.Apply(
            Confidence.Bm25Value(plays[n], plays.Sum(), parameters.Bm25AverageLength, popularity[item], model.UserCount, 7f, 0.4f), options.Scaling, options.Alpha))];
        var expected = Oracle(model.ItemFactors, model.ItemCount, 6, items, confidence, 2f, 0, 1, 1);
        Tolerance.AssertClose(expected.Select(v => (float)v).ToArray(), new Recommender(model).FoldIn(items, plays), 1e-4 * expected.Max(Math.Abs), 1e-3, "fold-in");
        // And the training weighted with them: Weight passes K1 and B through to BM25.
        var weighted = Confidence.Weight(matrix.UserItems, ConfidenceScaling.Linear, 1f, bm25: true, k1: 7f, b: 0.4f);
        var bm25 = Confidence.Bm25(matrix.UserItems, 7f, 0.4f);
        Assert.Equal(bm25.Select(v => 1 + v), weighted.Values.Take(bm25.Length));
    }

    [Theory]
    [InlineData("reg_exponent", "-1")]
    [InlineData("unobserved_weight", "0")]
    [InlineData("reg_offset", "-3")]
    public void A_model_file_whose_regularization_would_give_nan_factors_is_refused(string field, string value)
    {
        var model = new RecModel(2, [0.1f, 0.2f], [0.3f, 0.4f], [1], [7],
            parametersJson: $$"""{"factors":2,"regularization":1,"{{field}}":{{value}}}""");
        var e = Assert.Throws<ModelFormatException>(() => new Recommender(model));
        Assert.Contains("params_json", e.Message);
    }

    [Fact]
    public void A_model_file_without_the_new_fields_folds_in_as_before()
    {
        float[] items = [0.3f, 0.4f, -0.2f, 0.5f];
        var recommender = new Recommender(new RecModel(2, [0.1f, 0.2f], items, [1], [7, 8],
            parametersJson: """{"factors":2,"regularization":0.5,"alpha":2,"scaling":"linear","bm25":false}"""));
        // The classic system: (YᵀY + 0.5·I + (c − 1)·y₀y₀ᵀ)·x = c·y₀, with c = 1 + 2·3.
        var expected = Oracle(items, 2, 2, [0], [7f], 0.5f, 0, 1, 1);
        Tolerance.AssertClose(expected.Select(v => (float)v).ToArray(), recommender.FoldIn([0], [3f]), 1e-6, 1e-5, "fold-in");
    }

    [Theory]
    [InlineData(-0.1f, 1f, 1f, "reg_exponent")]
    [InlineData(2.5f, 1f, 1f, "reg_exponent")]
    [InlineData(1f, 0f, 1f, "reg_offset")]
    [InlineData(0f, 1f, 0f, "unobserved_weight")]
    [InlineData(0f, 1f, float.NaN, "unobserved_weight")]
    [InlineData(0f, 1f, float.PositiveInfinity, "unobserved_weight")]
    [InlineData(0f, 1f, 2e6f, "unobserved_weight")]
    [InlineData(1f, -1f, 1f, "reg_offset")]
    public void Out_of_range_settings_are_named(float exponent, float offset, float unobserved, string name)
    {
        var options = new AlsOptions { RegularizationExponent = exponent, RegularizationOffset = offset, UnobservedWeight = unobserved };
        var e = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
        Assert.Contains(name, e.Message);
    }
}
