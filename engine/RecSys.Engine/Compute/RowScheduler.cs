namespace RecSys.Engine.Compute;

/// <summary>
/// Runs a body over row ranges on a fixed number of workers, each claiming small chunks from a
/// shared counter (rows are very unequal in length, so static partitioning would leave one core idle).
/// Each worker gets its own scratch object, created once per run.
/// </summary>
public static class RowScheduler
{
    public static void Run<TScratch>(int rows, int threads, int chunk, Func<TScratch> createScratch, Action<int, int, TScratch> body)
    {
        if (rows == 0) return;
        threads = Math.Max(1, Math.Min(threads, (rows + chunk - 1) / chunk));
        int next = 0;
        void Worker()
        {
            var scratch = createScratch();
            while (true)
            {
                int start = Interlocked.Add(ref next, chunk) - chunk;
                if (start >= rows) return;
                body(start, Math.Min(start + chunk, rows), scratch);
            }
        }
        if (threads == 1)
        {
            Worker();
            return;
        }
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, _ => Worker());
    }
}
