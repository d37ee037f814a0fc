namespace RecSys.Server.Configuration;

/// <summary>A/B experiments (RecSys:Experiments:*; docs/experiments.md).</summary>
public sealed class ExperimentOptions
{
    /// <summary>Seconds between reads of the experiment store (changes made by another replica or by <c>recsys ab</c>); 0: only at start-up and on admin changes.</summary>
    public int RefreshSeconds { get; set; } = 5;

    /// <summary>A JSON file of experiment definitions (an array) stored as new versions at start-up where they differ from the store's.</summary>
    public string? File { get; set; }

    /// <summary>Exposures waiting to be stored, at most: past it they are dropped and counted (recsys_exposures_dropped_total), never waited for.</summary>
    public int ExposureQueue { get; set; } = 100_000;

    /// <summary>Tracks held by the exposures waiting, at most (12 bytes each: id and duration): an answer holds up to MaxLimit tracks.</summary>
    public long ExposureQueueTracks { get; set; } = 4_000_000;

    /// <summary>Exposures per store call, at most.</summary>
    public int ExposureBatch { get; set; } = 10_000;

    /// <summary>Milliseconds the exposure writer waits for more exposures before a store call (fewer, larger writes).</summary>
    public int ExposureFlushMilliseconds { get; set; } = 200;

    public List<string> Validate()
    {
        var problems = new List<string>();
        if (RefreshSeconds is < 0 or > 86_400) problems.Add($"RecSys:Experiments:RefreshSeconds must be in 0..86400 (got {RefreshSeconds})");
        if (File is { Length: > 0 } && !System.IO.File.Exists(File)) problems.Add($"RecSys:Experiments:File not found: {File}");
        if (ExposureQueue is < 1 or > 100_000_000) problems.Add($"RecSys:Experiments:ExposureQueue must be in 1..100000000 (got {ExposureQueue})");
        if (ExposureQueueTracks is < 1_000 or > 1_000_000_000) problems.Add($"RecSys:Experiments:ExposureQueueTracks must be in 1000..1000000000 (got {ExposureQueueTracks})");
        if (ExposureBatch is < 1 or > 1_000_000) problems.Add($"RecSys:Experiments:ExposureBatch must be in 1..1000000 (got {ExposureBatch})");
        if (ExposureFlushMilliseconds is < 1 or > 60_000) problems.Add($"RecSys:Experiments:ExposureFlushMilliseconds must be in 1..60000 (got {ExposureFlushMilliseconds})");
        return problems;
    }
}
