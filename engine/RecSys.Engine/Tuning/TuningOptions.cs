namespace RecSys.Engine.Tuning;

/// <summary>What a tuning is allowed: how many settings it starts from, time, the cut-off it ranks by, and its validation split.</summary>
public sealed record TuningOptions
{
    /// <summary>Settings drawn at the first rung (the starting settings among them).</summary>
    public int Candidates { get; init; } = 27;

    /// <summary>Seconds the search may take; null: <see cref="BudgetTrainings"/> trainings of the starting settings, measured.</summary>
    public double? BudgetSeconds { get; init; }

    /// <summary>
    /// The default budget, in trainings (and evaluations) of the starting settings at full iterations.
    /// The search itself costs about 19 at the defaults (27 candidates at a third of the iterations,
    /// then 10 at full), the local search up to 8 more: 32 leaves room for dearer candidates (more
    /// factors) before the budget binds.
    /// </summary>
    public double BudgetTrainings { get; init; } = 32;

    /// <summary>Most settings the local search around the winner tries, at full iterations (budget allowing).</summary>
    public int Refinements { get; init; } = 8;

    public int K { get; init; } = 10;

    /// <summary>Share of each listener's training interactions held out for validation.</summary>
    public double ValidationFraction { get; init; } = 0.2;

    /// <summary>Validation listeners scored per training, at most (a seeded sample): each costs a scan of every track.</summary>
    public int ValidationUsers { get; init; } = 2_000;

    /// <summary>Survivors per rung: the best 1/Eta go on with Eta times the iterations.</summary>
    public int Eta { get; init; } = 3;

    /// <summary>Seeds the draws and the validation split; null: the starting settings' seed.</summary>
    public ulong? Seed { get; init; }

    public void Validate()
    {
        static void Check(bool ok, string name, object? value, string rule)
        {
            if (!ok) throw new ArgumentOutOfRangeException(name, value, $"{name} {rule} (got {value})");
        }
        Check(Candidates is >= 1 and <= 1000, "tune_candidates", Candidates, "must be in 1..1000");
        Check(BudgetSeconds is null || (BudgetSeconds > 0 && double.IsFinite(BudgetSeconds.Value)), "tune_budget", BudgetSeconds, "must be a number of seconds > 0");
        Check(BudgetTrainings is >= 1 and <= 1000, "tune_budget_trainings", BudgetTrainings, "must be in 1..1000");
        Check(Refinements is >= 0 and <= 1000, "tune_refinements", Refinements, "must be in 0..1000");
        Check(K >= 1, "k", K, "must be >= 1");
        Check(ValidationFraction is > 0 and < 1, "validation_fraction", ValidationFraction, "must be in (0, 1)");
        Check(ValidationUsers >= 1, "validation_users", ValidationUsers, "must be >= 1");
        Check(Eta is >= 2 and <= 10, "eta", Eta, "must be in 2..10");
    }
}
