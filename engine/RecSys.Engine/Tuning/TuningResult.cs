using RecSys.Engine.Als;

namespace RecSys.Engine.Tuning;

/// <summary>One training of the search: the settings, the iterations it ran, its validation NDCG@K.</summary>
public sealed record TuningTrial(AlsOptions Options, int Iterations, double ValidationNdcg);

/// <summary>The settings a tuning adopts and how it got there.</summary>
public sealed record TuningResult(
    AlsOptions Best, double ValidationNdcg, int ValidationIterations, double BudgetSeconds, double Seconds, bool BudgetReached, IReadOnlyList<TuningTrial> Trials)
{
    /// <summary>Whether the search found better settings than the ones it started from.</summary>
    public bool Changed(AlsOptions start) => Best != start;
}
