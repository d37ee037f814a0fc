using System.Text.Json;
using RecSys.Engine.Als;
using RecSys.Engine.Data;
using RecSys.Engine.Evaluation;
using RecSys.Engine.Sparse;
using RecSys.Engine.Tuning;

namespace RecSys.Tests.Tuning;

/// <summary>Self-tuning: deterministic for a seed, fair to the starting settings, bounded by its budget, blind to the test split.</summary>
public sealed class SelfTunerTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly Lazy<CsrMatrix> Plays = new(() =>
        InteractionMatrix.Build(DemoCatalog.Generate(new DemoOptions { Users = 250, Tracks = 700, Plays = 15_000, Seed = 4 }).ToInteractions().Table).UserItems);

    private static readonly AlsOptions Start = new() { Factors = 16, Iterations = 6, Threads = 1 };
    /// <summary>A budget no run reaches: the tests of the search's logic must not depend on this machine's speed.</summary>
    private static readonly TuningOptions Small = new() { Candidates = 7, BudgetSeconds = 1e9 };

    [Fact]
    public void The_same_seed_gives_the_same_search_and_pick()
    {
        var one = SelfTuner.Tune(Plays.Value, Start, Small);
        var two = SelfTuner.Tune(Plays.Value, Start, Small);
        Assert.Equal(one.Best, two.Best);
        Assert.Equal(one.Trials, two.Trials);
        Assert.False(one.BudgetReached);
        var other = SelfTuner.Tune(Plays.Value, Start with { Seed = 43 }, Small);
        Assert.NotEqual(one.Trials.Select(t => t.Options with { Seed = 0 }), other.Trials.Select(t => t.Options with { Seed = 0 }));
    }

    [Fact]
    public void Candidates_train_few_iterations_first_and_the_starting_settings_always_reach_the_end()
    {
        var result = SelfTuner.Tune(Plays.Value, Start, Small);
        int[] rungs = SelfTuner.Rungs(Start.Iterations, 3);
        Assert.Equal([2, 6], rungs);
        var candidates = TuningSpace.Candidates(Start, Small.Candidates, Start.Seed);
        Assert.Equal(7, result.Trials.Count(t => t.Iterations == 2));
        Assert.Equal(candidates, result.Trials.Take(7).Select(t => t.Options));
        var lastRung = result.Trials.Skip(7).TakeWhile(t => candidates.Contains(t.Options)).ToList();
        // The best third of 7 (3) go on, the starting settings with them if they were not among the three.
        Assert.InRange(lastRung.Count, 3, 4);
        Assert.All(lastRung, t => Assert.Equal(6, t.Iterations));
        // The starting settings train first in the last rung.
        Assert.Equal(Start, lastRung[0].Options);
        // Then the local search: settings that are not draws, at full training, at most Refinements of them.
        var refinements = result.Trials.Skip(7 + lastRung.Count).ToList();
        Assert.InRange(refinements.Count, 1, Small.Refinements);
        Assert.All(refinements, t => Assert.Equal(6, t.Iterations));
        Assert.All(refinements, t => Assert.DoesNotContain(t.Options, candidates));
        // The pick is the best at full training, the starting settings included.
        Assert.Equal(lastRung.Concat(refinements).MaxBy(t => t.ValidationNdcg)!.Options, result.Best);
        Assert.Equal(6, result.ValidationIterations);
        var without = SelfTuner.Tune(Plays.Value, Start, Small with { Refinements = 0 });
        Assert.Equal(7 + lastRung.Count, without.Trials.Count);
    }

    [Fact]
    public void Neighbours_move_only_the_continuous_settings_and_stay_in_the_space()
    {
        var rng = new SplitMix(5);
        foreach (var center in TuningSpace.Candidates(Start, 40, 11))
        {
            for (int i = 0; i < 5; i++)
            {
                var n = TuningSpace.Neighbour(center, ref rng);
                n.Validate();
                Assert.Equal((center.Factors, center.Bm25, center.Scaling, center.RegularizationExponent, center.Iterations, center.Seed),
                    (n.Factors, n.Bm25, n.Scaling, n.RegularizationExponent, n.Iterations, n.Seed));
                Assert.InRange(n.Alpha, center.Bm25 ? 0.005f : 0.5f, center.Bm25 ? 0.5f : 50f);
                Assert.InRange(n.UnobservedWeight, 0.05f, 1f);
                if (center.UnobservedWeight == 1) Assert.Equal(1f, n.UnobservedWeight);
                if (!center.Bm25) Assert.Equal((center.Bm25K1, center.Bm25B), (n.Bm25K1, n.Bm25B));
                else Assert.InRange(n.Bm25B, 0.2f, 1f);
            }
        }
    }

    [Fact]
    public void A_spent_budget_ends_the_search_with_what_it_has()
    {
        var result = SelfTuner.Tune(Plays.Value, Start, Small with { BudgetSeconds = 1e-9 });
        Assert.True(result.BudgetReached);
        // One training at the first rung, then the final comparison at full training (the leader is the
        // start itself), and no local search.
        Assert.Equal([2, 6], result.Trials.Select(t => t.Iterations));
        Assert.Equal(Start, result.Best);
        Assert.Equal(6, result.ValidationIterations);
    }

    [Fact]
    public void Rungs_grow_by_eta_to_the_full_iterations()
    {
        Assert.Equal([5, 15], SelfTuner.Rungs(15, 3));
        Assert.Equal([3, 10, 30], SelfTuner.Rungs(30, 3));
        Assert.Equal([2], SelfTuner.Rungs(2, 3));
        Assert.Equal([1], SelfTuner.Rungs(1, 3));
    }

    [Fact]
    public void Draws_are_valid_settings_spread_over_the_space()
    {
        var candidates = TuningSpace.Candidates(Start, 60, 42);
        Assert.Equal(Start, candidates[0]);
        Assert.Equal(60, candidates.Distinct().Count());
        foreach (var c in candidates) c.Validate();
        Assert.Contains(candidates, c => c.Bm25);
        Assert.Contains(candidates, c => !c.Bm25);
        Assert.Contains(candidates, c => c.RegularizationExponent > 0);
        Assert.Contains(candidates, c => c.UnobservedWeight < 1);
        Assert.Contains(candidates, c => c.Bm25 && c.Bm25K1 != 100f && c.Bm25B != 0.8f);
        Assert.All(candidates, c => Assert.Equal(Start.Iterations, c.Iterations));
    }

    [Fact]
    public void Eval_tunes_on_the_training_part_only_a_poisoned_test_part_does_not_change_the_pick()
    {
        // The same training file with two test files: the real held-out plays, and plays drawn at random.
        var plays = Plays.Value;
        var split = Splits.Random(plays, 0.2, 7);
        string train = Write("train.tsv", split.Train);
        string test = Write("test.tsv", split.Test);
        // Poisoned: random pairs over the listeners and tracks of the training file (the same id space).
        int[] users = [.. Enumerable.Range(0, plays.Rows).Where(u => split.Train.RowLength(u) > 0)];
        int[] tracks = [.. Enumerable.Range(0, split.Train.Nnz).Select(n => split.Train.ColIndices[n]).Distinct()];
        var rng = new SplitMix(99);
        var poisoned = CsrBuilder.FromCoo(plays.Rows, plays.Cols,
            [.. Enumerable.Range(0, split.Test.Nnz).Select(_ => users[rng.NextInt(users.Length)])],
            [.. Enumerable.Range(0, split.Test.Nnz).Select(_ => tracks[rng.NextInt(tracks.Length)])],
            [.. Enumerable.Repeat(1f, split.Test.Nnz)]);
        string bad = Write("poisoned.tsv", poisoned);
        string[] common = ["eval", "--train", train, "--format", "tsv", "--factors", "16", "--iterations", "6", "--tune", "auto", "--tune-budget", "1e9", "--json"];
        var real = RecsysCli.Run([.. common, "--test", test]);
        var fake = RecsysCli.Run([.. common, "--test", bad]);
        Assert.True(real.ExitCode == 0, real.Stderr);
        Assert.True(fake.ExitCode == 0, fake.Stderr);
        using var a = JsonDocument.Parse(real.Stdout);
        using var b = JsonDocument.Parse(fake.Stdout);
        var detail = $"{a.RootElement.GetProperty("tuned")} / {b.RootElement.GetProperty("tuned")}";
        Assert.False(a.RootElement.GetProperty("tuned").GetProperty("budget_reached").GetBoolean());
        foreach (string setting in new[] { "factors", "regularization", "reg_exponent", "unobserved_weight", "alpha", "scaling", "bm25", "validation_ndcg@10" })
        {
            Assert.True(a.RootElement.GetProperty("tuned").GetProperty(setting).GetRawText() == b.RootElement.GetProperty("tuned").GetProperty(setting).GetRawText(), detail);
        }
        // The test parts do differ: the final scores are not the same.
        Assert.NotEqual(a.RootElement.GetProperty("als").GetProperty("ndcg@10").GetDouble(), b.RootElement.GetProperty("als").GetProperty("ndcg@10").GetDouble());
    }

    [Fact]
    public void Train_reports_the_tuned_settings_in_its_json()
    {
        string path = Write("plays.tsv", Plays.Value);
        var r = RecsysCli.Run("train", "--input", path, "--format", "tsv", "--factors", "16", "--iterations", "6", "--tune", "auto", "--out", _dir.File("m.npz"), "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var tuned = doc.RootElement.GetProperty("tuned");
        Assert.InRange(tuned.GetProperty("validation_ndcg@10").GetDouble(), 0, 1);
        Assert.Equal(tuned.GetProperty("factors").GetInt32(), doc.RootElement.GetProperty("factors").GetInt32());
        var bad = RecsysCli.Run("train", "--input", path, "--format", "tsv", "--tune", "sometimes", "--out", _dir.File("x.npz"));
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("--tune", bad.Stderr);
        var budgetWithoutTuning = RecsysCli.Run("train", "--input", path, "--format", "tsv", "--tune-budget", "5", "--out", _dir.File("y.npz"));
        Assert.NotEqual(0, budgetWithoutTuning.ExitCode);
        Assert.Contains("--tune-budget applies to --tune auto only", budgetWithoutTuning.Stderr);
    }

    private string Write(string name, CsrMatrix m)
    {
        var lines = new List<string>();
        for (int u = 0; u < m.Rows; u++)
        {
            var items = m.RowIndices(u);
            var values = m.RowValues(u);
            for (int n = 0; n < items.Length; n++) lines.Add($"{u}\t{items[n]}\t{values[n]}");
        }
        return _dir.Write(name, string.Join("\n", lines));
    }
}
