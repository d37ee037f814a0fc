
namespace RecSys.Engine.Events;

/// <summary>
/// One play as a client reports it: the client's own id for the event (so a retry can be recognised),
/// who played what, how far (milestone 0..100) and whether it completed, and when (UTC).
/// </summary>
public readonly record struct PlayEvent(string EventId, long UserId, long TrackId, int Milestone, bool IsCompleted, DateTime PlayedAtUtc)
{
    /// <summary>The original design's positive signal: milestone &gt;= 75 or completed.</summary>
    public bool Qualifies => Milestone >= Qualification.MinMilestone || IsCompleted;

    /// <summary>The most UTF-8 bytes an event id may have.</summary>
    public const int MaxEventIdBytes = 128;
}
