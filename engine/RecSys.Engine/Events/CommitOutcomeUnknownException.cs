namespace RecSys.Engine.Events;

/// <summary>
/// The session failed after the commit was sent: the events may or may not be stored. A retry is
/// safe (an event id is kept once), but whoever applied the call's plays must look again at what the
/// store holds.
/// </summary>
public sealed class CommitOutcomeUnknownException(string message, Exception inner) : IOException(message, inner);
