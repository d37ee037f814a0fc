namespace RecSys.Engine.Events;

/// <summary>
/// Numbers events as they are committed, shared by the stores that write side by side: a number is
/// taken only after its event's commit, so every event numbered at or below a value read now is
/// committed (what a training that starts now reads).
/// </summary>
public sealed class EventSequence
{
    private long _last;

    public long Next() => Interlocked.Increment(ref _last);

    public long Last => Interlocked.Read(ref _last);
}
