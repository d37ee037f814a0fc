namespace RecSys.Engine.Als;

/// <summary>What the trainer reports after each iteration.</summary>
/// <param name="Iteration">1-based iteration number.</param>
/// <param name="Iterations">Total iterations.</param>
/// <param name="Elapsed">Time since training started.</param>
/// <param name="Loss">The weighted training loss when requested, otherwise null.</param>
public sealed record IterationReport(int Iteration, int Iterations, TimeSpan Elapsed, double? Loss);
