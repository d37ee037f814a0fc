namespace RecSys.Engine.Events;

/// <summary>
/// Where acknowledged plays are kept: the embedded <see cref="EventLog"/>, or the mapped PostgreSQL
/// plays table. One writer calls it (the server's group commit), with the events of many requests.
/// </summary>
public interface IPlayEventStore : IDisposable
{
    /// <summary>
    /// Stores the events durably (on disk, or committed) before returning. Result i is the sequence
    /// number given to events[i], or 0 when an event with that id was stored before (or earlier in the
    /// same call): a client's retry is kept once. A store that numbers only plays that qualify (the
    /// replicas' shared feed) gives a stored play that does not qualify <see cref="Unnumbered"/>.
    /// Throws when nothing could be stored; then nothing of the call was, except after a
    /// <see cref="CommitOutcomeUnknownException"/>.
    /// </summary>
    long[] Store(IReadOnlyList<PlayEvent> events);

    /// <summary>The sequence number of a stored event the store does not number.</summary>
    const long Unnumbered = -1;

    /// <summary>Where the events go, in words (for /model and logs).</summary>
    string Description { get; }
}
