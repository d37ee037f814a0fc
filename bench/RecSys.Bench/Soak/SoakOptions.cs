namespace RecSys.Bench.Soak;

/// <summary>What a soak does and to which server (<see cref="SoakExperiment"/> reads it from the command line).</summary>
public sealed record SoakOptions(
    Uri Url,
    TimeSpan Duration,
    int? Pid,
    string? AdminToken,
    int Ids,
    int Connections,
    bool Events,
    TimeSpan ReloadEvery,
    TimeSpan TrainEvery,
    string? DbStop,
    string? DbStart,
    TimeSpan OutageEvery,
    TimeSpan OutageLength,
    TimeSpan SampleEvery);
