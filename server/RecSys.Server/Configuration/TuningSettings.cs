namespace RecSys.Server.Configuration;

/// <summary>
/// Self-tuning of the server's trainings (RecSys:Tuning:*; docs/tuning.md): the first training searches
/// the settings, later ones reuse the serving model's choice until it is a week old or the data has
/// grown by a quarter, and then search again starting from it.
/// </summary>
public sealed class TuningSettings
{
    /// <summary>auto (search as described) or off (train with RecSys:Training as given).</summary>
    public string Mode { get; set; } = "auto";

    /// <summary>The search's budget in trainings (and evaluations) of the starting settings, measured.</summary>
    public double BudgetTrainings { get; set; } = 32;

    /// <summary>Settings drawn at the search's first rung.</summary>
    public int Candidates { get; set; } = 27;

    /// <summary>Days a choice is reused before the next training searches again.</summary>
    public double RetuneDays { get; set; } = 7;

    /// <summary>Growth of the interactions (0.25: a quarter more) after which the next training searches again.</summary>
    public double RetuneGrowth { get; set; } = 0.25;

    public bool Auto => Mode.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase);

    public List<string> Validate()
    {
        var problems = new List<string>();
        if (!Auto && !Mode.Trim().Equals("off", StringComparison.OrdinalIgnoreCase)) problems.Add($"RecSys:Tuning:Mode must be auto or off (got '{Mode}')");
        if (!(BudgetTrainings is >= 1 and <= 1000)) problems.Add($"RecSys:Tuning:BudgetTrainings must be in 1..1000 (got {BudgetTrainings})");
        if (Candidates is < 1 or > 1000) problems.Add($"RecSys:Tuning:Candidates must be in 1..1000 (got {Candidates})");
        if (!(RetuneDays is >= 0 and <= 3650)) problems.Add($"RecSys:Tuning:RetuneDays must be in 0..3650 (got {RetuneDays})");
        if (!(RetuneGrowth is >= 0 and <= 1000)) problems.Add($"RecSys:Tuning:RetuneGrowth must be in 0..1000 (got {RetuneGrowth})");
        return problems;
    }
}
