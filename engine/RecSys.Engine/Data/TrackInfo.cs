using RecSys.Engine.Events;

namespace RecSys.Engine.Data;

/// <summary>Display metadata of a track, as the original design's responses carry it. Every field but the id may be missing.</summary>
public sealed record TrackInfo(
    long TrackId,
    string? Title,
    long? ArtistId,
    string? ArtistName,
    long? AlbumId,
    int? DurationMs,
    string? PreviewUrl,
    string? CoverUrl,
    string? Genre = null);

/// <summary>One row of the <c>interactions</c> table: a play and how far it got.</summary>
public readonly record struct Play(long UserId, long TrackId, int Milestone, bool IsCompleted, DateTime CreatedAtUtc)
{
    /// <summary>The original design's positive signal: listened to 75% or more, or completed.</summary>
    public bool Qualifies => Milestone >= Qualification.MinMilestone || IsCompleted;
}
