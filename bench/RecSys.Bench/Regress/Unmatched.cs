namespace RecSys.Bench.Regress;

/// <summary>Metrics only one build measured, so not compared: benchmarks added to or removed from a suite by the change.</summary>
public sealed record Unmatched(IReadOnlyList<string> BaselineOnly, IReadOnlyList<string> CandidateOnly);
