namespace RecSys.Server.Cluster;

/// <summary>
/// Runs a piece of work on the calling thread unless it is running already; then the running one goes
/// round once more instead, so a request is never lost and never queued twice. Every call passes the
/// same work.
/// </summary>
public sealed class SingleFlight
{
    private int _running;
    private volatile bool _again;

    public void Run(Action work)
    {
        _again = true;
        // The runner, having let go, looks once more: a request made while it was letting go is not lost.
        while (_again && Interlocked.CompareExchange(ref _running, 1, 0) == 0)
        {
            try
            {
                while (_again)
                {
                    _again = false;
                    work();
                }
            }
            finally
            {
                Interlocked.Exchange(ref _running, 0);
            }
        }
    }
}
