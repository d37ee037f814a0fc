namespace RecSys.Engine.Events;

/// <summary>
/// A parsed request body: the events, or why it cannot be stored. A batch is all or nothing: one bad
/// event (or malformed JSON) refuses it whole, so a client never has to find out which half was kept.
/// </summary>
public sealed class PlayEventBatch
{
    public List<PlayEvent> Events { get; } = [];

    /// <summary>The bad events' problems in order, the first <see cref="PlayEventParser.MaxErrors"/> of them.</summary>
    public List<PlayEventError> Errors { get; } = [];

    /// <summary>Every problem found, kept or not.</summary>
    public int ErrorCount { get; private set; }

    public void AddError(PlayEventError error)
    {
        ErrorCount++;
        if (Errors.Count < PlayEventParser.MaxErrors) Errors.Add(error);
    }

    /// <summary>Where and why the body is not JSON (the whole body; NDJSON reports a bad line as an event error).</summary>
    public string? SyntaxError { get; set; }

    /// <summary>The body holds more events than allowed; parsing stopped there.</summary>
    public bool TooMany { get; set; }

    public bool IsValid => SyntaxError is null && ErrorCount == 0 && !TooMany;
}
