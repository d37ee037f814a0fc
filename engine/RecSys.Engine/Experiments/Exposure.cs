namespace RecSys.Engine.Experiments;

/// <summary>
/// One answer an experiment's user was shown: its recommendation id (the X-Recommendation-Id header),
/// the arm, the tracks in order (position = index) and each track's duration in ms (0 when the catalog
/// has none), so listening time can be computed later without the catalog of that moment.
/// </summary>
public sealed record Exposure(Guid RecommendationId, string Experiment, string Arm, long UserId, DateTime ShownAtUtc, long[] Tracks, int[] DurationsMs)
{
    /// <summary>The most tracks one exposure keeps (a longer answer keeps its first ones).</summary>
    public const int MaxTracks = 1000;
}
