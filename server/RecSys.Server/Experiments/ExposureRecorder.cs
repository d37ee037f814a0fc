using System.Collections.Concurrent;
using RecSys.Engine.Experiments;
using RecSys.Server.Hosting;

namespace RecSys.Server.Experiments;

/// <summary>
/// Takes exposures off the request path: a request only enqueues (bounded: past
/// <see cref="ExperimentOptions.ExposureQueue"/> an exposure is dropped and counted, never waited for),
/// and one writer thread stores them in batches. A failed store call is retried with back-off while
/// the queue fills; what it cannot hold is counted as dropped. Stopping stores what is queued.
/// </summary>
public sealed class ExposureRecorder(IExposureStore store, ExperimentOptions options, ILogger log) : IDisposable
{
    private readonly ConcurrentQueue<Exposure> _queue = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly CancellationTokenSource _stop = new();
    private int _queued;
    private Task? _writer;

    public IExposureStore Store => store;

    public void Start() => _writer = Task.Factory.StartNew(WriteLoop, TaskCreationOptions.LongRunning).Unwrap();

    /// <summary>Queues an exposure; false (and counted) when the queue is full.</summary>
    public bool Record(Exposure exposure)
    {
        if (Interlocked.Increment(ref _queued) > options.ExposureQueue)
        {
            Interlocked.Decrement(ref _queued);
            ServerMetrics.ExposuresDropped.Inc();
            return false;
        }
        _queue.Enqueue(exposure);
        if (Volatile.Read(ref _queued) == 1) _signal.Release();
        return true;
    }

    public int Queued => Volatile.Read(ref _queued);

    private async Task WriteLoop()
    {
        var batch = new List<Exposure>(options.ExposureBatch);
        var backoff = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            bool stopping = _stop.IsCancellationRequested;
            if (!stopping && _queue.IsEmpty)
            {
                try
                {
                    await _signal.WaitAsync(TimeSpan.FromMilliseconds(options.ExposureFlushMilliseconds), _stop.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
            if (batch.Count == 0)
            {
                // Let a short burst gather into one write.
                if (!stopping && _queue.Count < options.ExposureBatch) await Task.Delay(Math.Min(options.ExposureFlushMilliseconds, 20));
                while (batch.Count < options.ExposureBatch && _queue.TryDequeue(out var exposure)) batch.Add(exposure);
            }
            if (batch.Count == 0)
            {
                if (stopping) return;
                continue;
            }
            try
            {
                store.Append(batch);
                Interlocked.Add(ref _queued, -batch.Count);
                ServerMetrics.ExposuresStored.Inc(batch.Count);
                batch.Clear();
                backoff = TimeSpan.FromMilliseconds(100);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or Npgsql.NpgsqlException or InvalidOperationException)
            {
                ServerMetrics.ExposureStoreFailures.Inc();
                log.LogWarning("could not store {Count} exposures in {Store} (retrying in {Delay} ms): {Message}", batch.Count, store.Description, backoff.TotalMilliseconds, e.Message);
                if (stopping)
                {
                    ServerMetrics.ExposuresDropped.Inc(batch.Count);
                    Interlocked.Add(ref _queued, -batch.Count);
                    batch.Clear();
                    continue;
                }
                try
                {
                    await Task.Delay(backoff, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                }
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
            }
        }
    }

    /// <summary>Stores what is queued and stops the writer.</summary>
    public async Task StopAsync()
    {
        _stop.Cancel();
        _signal.Release();
        if (_writer is not null) await _writer;
    }

    public void Dispose()
    {
        _stop.Dispose();
        _signal.Dispose();
        store.Dispose();
    }
}
