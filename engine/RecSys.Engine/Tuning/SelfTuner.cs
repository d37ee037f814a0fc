using System.Diagnostics;
using RecSys.Engine.Als;
using RecSys.Engine.Evaluation;
using RecSys.Engine.Sparse;
using RecSys.Engine.Training;

namespace RecSys.Engine.Tuning;

/// <summary>
/// Training that tunes itself: successive halving (Jamieson and Talwalkar 2016) over ALS iterations on
/// a validation split carved from the training interactions only — the caller's test split is never
/// passed in. All candidates train a few iterations; the best third go on with three times as many,
/// until the survivors train the full iterations. The starting settings train first in every rung and
/// always reach the last one, so a setting is adopted only when it beats them at full training. When
/// the budget runs short, the search stops early but keeps time (estimated from the first training)
/// for that last comparison: the starting settings against the best so far, at full iterations.
/// With budget left, a short local search around the winner follows (<see cref="Refine"/>).
/// Deterministic for a seed whenever the budget is not what ends the search.
/// </summary>
public static class SelfTuner
{
    public static TuningResult Tune(CsrMatrix rawTrain, AlsOptions start, TuningOptions tuning, Action<string>? log = null, CancellationToken ct = default)
    {
        start.Validate();
        tuning.Validate();
        ulong seed = tuning.Seed ?? start.Seed;
        var split = Splits.PerUser(WithoutEmptyRowsAndColumns(rawTrain), tuning.ValidationFraction, seed ^ 0x5E1F7A11);
        var candidates = TuningSpace.Candidates(start, tuning.Candidates, seed);
        int[] rungs = Rungs(start.Iterations, tuning.Eta);
        int full = rungs[^1];
        var clock = Stopwatch.StartNew();
        var trials = new List<TuningTrial>();
        double? budget = tuning.BudgetSeconds;
        double oneTraining = 0;
        bool budgetReached = false;
        var survivors = candidates;
        var last = new List<TuningTrial>();
        int lastRung = -1;
        for (int rung = 0; rung < rungs.Length && survivors.Count > 0 && !budgetReached; rung++)
        {
            var scored = new List<TuningTrial>();
            foreach (var candidate in survivors)
            {
                // Before the last rung, stop while two full trainings (the final comparison) still fit.
                double left = (budget ?? double.PositiveInfinity) - clock.Elapsed.TotalSeconds;
                if (trials.Count > 0 && left < (rung + 1 < rungs.Length ? 2 * oneTraining : 0))
                {
                    budgetReached = true;
                    break;
                }
                var trial = Score(split, candidate with { Iterations = rungs[rung] }, tuning, ct) with { Options = candidate };
                scored.Add(trial);
                trials.Add(trial);
                if (trials.Count == 1)
                {
                    // The first training (the starting settings at the first rung) sizes what comes.
                    oneTraining = clock.Elapsed.TotalSeconds * full / Math.Max(1, rungs[rung]);
                    budget ??= tuning.BudgetTrainings * oneTraining;
                    log?.Invoke($"tuning budget {budget:F1} s (one training and evaluation of the starting settings: about {oneTraining:F1} s), " +
                        $"{candidates.Count} candidates, rungs of {string.Join("/", rungs)} iterations");
                }
            }
            if (scored.Count == 0) break;
            last = scored;
            lastRung = rung;
            log?.Invoke($"rung {rung + 1}: {scored.Count} settings at {rungs[rung]} iterations, best validation ndcg@{tuning.K} {scored.Max(t => t.ValidationNdcg):F4}");
            int keep = Math.Max(1, (int)Math.Ceiling(scored.Count / (double)tuning.Eta));
            var next = Ranked(scored, candidates).Take(keep).Select(t => t.Options).ToList();
            // The starting settings go on to the end, first in each rung.
            next.Remove(start);
            next.Insert(0, start);
            survivors = rung + 1 < rungs.Length ? next : [];
        }
        if (lastRung < rungs.Length - 1)
        {
            // Stopped early: the starting settings against the best so far, at full training.
            var finalists = new List<AlsOptions> { start };
            if (Ranked(last, candidates).First().Options is var leader && leader != start) finalists.Add(leader);
            last = [];
            foreach (var candidate in finalists)
            {
                var trial = Score(split, candidate with { Iterations = full }, tuning, ct) with { Options = candidate };
                last.Add(trial);
                trials.Add(trial);
            }
            log?.Invoke($"budget reached: the best so far against the starting settings at {full} iterations");
        }
        if (!budgetReached && tuning.Refinements > 0 && last.Count > 0)
        {
            budgetReached = Refine(split, last, candidates, tuning, seed, full, budget, oneTraining, clock, trials, log, ct);
        }
        var best = Ranked(last, candidates).First();
        return new TuningResult(best.Options, best.ValidationNdcg, best.Iterations, budget ?? 0, clock.Elapsed.TotalSeconds, budgetReached, trials);
    }

    /// <summary>
    /// Local search around the leader at full iterations, a (1+1) evolution strategy: each step moves
    /// the leader's continuous settings by a log-normal factor (<see cref="TuningSpace.Neighbour"/>) and
    /// the better of the two leads on. Random draws find a good region; this climbs inside it, where a
    /// budget of draws alone rarely lands. Neighbours join <paramref name="order"/> after every draw, so
    /// a tie still goes to the earlier setting. Returns whether the budget ended it.
    /// </summary>
    private static bool Refine(Split split, List<TuningTrial> last, List<AlsOptions> order, TuningOptions tuning, ulong seed, int full,
        double? budget, double oneTraining, Stopwatch clock, List<TuningTrial> trials, Action<string>? log, CancellationToken ct)
    {
        var leader = Ranked(last, order).First();
        var rng = new Data.SplitMix(seed, 0x2EF1);
        int steps = 0;
        for (int step = 0; step < tuning.Refinements; step++)
        {
            if ((budget ?? double.PositiveInfinity) - clock.Elapsed.TotalSeconds < oneTraining) return true;
            var neighbour = TuningSpace.Neighbour(leader.Options, ref rng);
            if (order.Contains(neighbour)) continue;
            order.Add(neighbour);
            var trial = Score(split, neighbour with { Iterations = full }, tuning, ct) with { Options = neighbour };
            last.Add(trial);
            trials.Add(trial);
            steps++;
            if (trial.ValidationNdcg > leader.ValidationNdcg) leader = trial;
        }
        log?.Invoke($"refinement: {steps} settings near the leader at {full} iterations, best validation ndcg@{tuning.K} {leader.ValidationNdcg:F4}");
        return false;
    }

    /// <summary>Best validation NDCG first; ties to the earlier candidate (the starting settings are the first).</summary>
    private static IEnumerable<TuningTrial> Ranked(List<TuningTrial> trials, List<AlsOptions> candidates) =>
        trials.OrderByDescending(t => t.ValidationNdcg).ThenBy(t => candidates.IndexOf(t.Options));

    /// <summary>Iterations per rung, about Eta times the one before, ending at the full count, at least 2: 15 → 5, 15 (Eta 3); 30 → 3, 10, 30.</summary>
    public static int[] Rungs(int iterations, int eta)
    {
        var rungs = new List<int> { Math.Max(1, iterations) };
        while (rungs[0] / eta >= 2 && rungs.Count < 3) rungs.Insert(0, rungs[0] / eta);
        return [.. rungs.Distinct()];
    }

    /// <summary>
    /// The matrix without listeners or tracks that have no interaction in it. An evaluation's id space
    /// also holds the ids that occur only in its test part: left in, they would change the search's
    /// matrix (and every factor's seeded start) with the test part, which the search must not see.
    /// </summary>
    internal static CsrMatrix WithoutEmptyRowsAndColumns(CsrMatrix m)
    {
        var column = new int[m.Cols];
        Array.Fill(column, -1);
        foreach (int c in m.ColIndices.AsSpan(0, m.Nnz)) column[c] = 0;
        int cols = 0;
        for (int c = 0; c < m.Cols; c++)
        {
            if (column[c] == 0) column[c] = cols++;
        }
        var rowPtr = new List<int> { 0 };
        var indices = new int[m.Nnz];
        for (int r = 0; r < m.Rows; r++)
        {
            if (m.RowLength(r) == 0) continue;
            var row = m.RowIndices(r);
            for (int n = 0; n < row.Length; n++) indices[rowPtr[^1] + n] = column[row[n]];
            rowPtr.Add(rowPtr[^1] + row.Length);
        }
        // Column order is kept, so each row's indices stay ascending.
        return new CsrMatrix(rowPtr.Count - 1, cols, [.. rowPtr], indices, m.Values[..m.Nnz]);
    }

    private static TuningTrial Score(Split split, AlsOptions options, TuningOptions tuning, CancellationToken ct)
    {
        var factors = ModelBuilder.Train(split.Train, options, cancellationToken: ct);
        var metrics = Evaluator.Evaluate(Evaluator.Als(factors.UserFactors, factors.ItemFactors, factors.Factors), split.Train, split.Test, tuning.K, options.Threads,
            tuning.ValidationUsers, options.Seed);
        return new TuningTrial(options, options.Iterations, metrics.Ndcg);
    }
}
