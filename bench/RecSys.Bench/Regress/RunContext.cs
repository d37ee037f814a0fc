namespace RecSys.Bench.Regress;

/// <summary>What one sample of a run is taken with: the build, a fresh folder, the environment, and the build's fixture.</summary>
public sealed record RunContext(string Build, string Artifacts, IReadOnlyDictionary<string, string>? Environment, IDisposable? Fixture);
