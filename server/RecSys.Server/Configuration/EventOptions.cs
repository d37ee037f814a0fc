namespace RecSys.Server.Configuration;

/// <summary>POST /events/plays: limits and the embedded log (RecSys:Events:*; docs/events.md).</summary>
public sealed class EventOptions
{
    /// <summary>Events one request may carry; a longer batch answers 413.</summary>
    public int MaxBatch { get; set; } = 10_000;

    /// <summary>Largest request body; a larger one answers 413 before it is read.</summary>
    public int MaxBodyKilobytes { get; set; } = 4096;

    /// <summary>
    /// Request bodies being received and parsed at once, at most (kilobytes; a body counts its
    /// Content-Length, or MaxBodyKilobytes when chunked): past it a request answers 503 before its body
    /// is read, so many large bodies at once cannot take the memory the queue limit protects.
    /// </summary>
    public int BodiesInFlightKilobytes { get; set; } = 262_144;

    /// <summary>
    /// Events accepted but not yet stored, at most: past it a request answers 503 with Retry-After
    /// instead of queueing (memory stays bounded; the client retries, and its retry is kept once).
    /// </summary>
    public int QueueEvents { get; set; } = 100_000;

    /// <summary>
    /// The embedded log recognises a retried event among this many most recent events (about 50 bytes
    /// each in memory); training de-duplicates the whole log. The database backend's unique index has no window.
    /// </summary>
    public int DedupWindow { get; set; } = 1_000_000;

    /// <summary>
    /// A track not in the model gets factors (fold-in from its listeners) once this many users the model
    /// knows have a qualified play of it; it can then be recommended and have similar tracks before the
    /// next training.
    /// </summary>
    public int NewTrackListeners { get; set; } = 5;

    /// <summary>Database sessions writing events side by side (one commit's wait overlaps another's work; the embedded log has one writer).</summary>
    public int DatabaseWriters { get; set; } = 2;

    /// <summary>Bearer token POST /events/plays requires; empty: no token (put the API behind your own gateway then).</summary>
    public string? Token { get; set; }

    public List<string> Validate()
    {
        var problems = new List<string>();
        if (MaxBatch is < 1 or > 50_000) problems.Add($"RecSys:Events:MaxBatch must be in 1..50000 (got {MaxBatch})");
        if (MaxBodyKilobytes is < 1 or > 1_048_576) problems.Add($"RecSys:Events:MaxBodyKilobytes must be in 1..1048576 (got {MaxBodyKilobytes})");
        if (BodiesInFlightKilobytes < MaxBodyKilobytes) problems.Add($"RecSys:Events:BodiesInFlightKilobytes must be at least MaxBodyKilobytes ({MaxBodyKilobytes}) (got {BodiesInFlightKilobytes})");
        if (QueueEvents < MaxBatch) problems.Add($"RecSys:Events:QueueEvents must be at least MaxBatch ({MaxBatch}) (got {QueueEvents})");
        if (DedupWindow is < 0 or > 100_000_000) problems.Add($"RecSys:Events:DedupWindow must be in 0..100000000 (got {DedupWindow})");
        if (NewTrackListeners < 1) problems.Add($"RecSys:Events:NewTrackListeners must be >= 1 (got {NewTrackListeners})");
        if (DatabaseWriters is < 1 or > 16) problems.Add($"RecSys:Events:DatabaseWriters must be in 1..16 (got {DatabaseWriters})");
        if (Token is { Length: > 0 and < 16 }) problems.Add("RecSys:Events:Token must be at least 16 characters");
        return problems;
    }
}
