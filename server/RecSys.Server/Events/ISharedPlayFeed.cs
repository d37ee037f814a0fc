namespace RecSys.Server.Events;

/// <summary>
/// Play events shared by replicas (the cluster's play feed, in PostgreSQL): what the event writer
/// needs to number what it stores and to bring in what the other replicas stored.
/// </summary>
public interface ISharedPlayFeed
{
    /// <summary>This process's mark on the plays it stores (it applies them itself, so it does not read them back).</summary>
    long Origin { get; }

    /// <summary>The feed's identity once read from the database (null until then).</summary>
    string? Epoch { get; }

    /// <summary>Every play up to this number is applied here.</summary>
    long Applied { get; }

    /// <summary>Other replicas' plays applied here.</summary>
    long Received { get; }

    string? LastError { get; }

    /// <summary>Applies what is new in the feed (blocking; a call while one runs makes that one go round again).</summary>
    void CatchUp();

    /// <summary>
    /// After a commit whose outcome is unknown: the plays numbered above <paramref name="after"/> are
    /// read again at the next catch-up, this process's own included (a play applied twice counts once).
    /// </summary>
    void Recheck(long after);

    /// <summary>What a training that reads the plays now will have seen (blocking).</summary>
    (string Epoch, long Through) Mark();

    /// <summary>Forgets what every kept version was trained on; returns the rows deleted (blocking).</summary>
    long Prune();
}
