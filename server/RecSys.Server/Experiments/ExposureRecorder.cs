using System.Collections.Concurrent;
using RecSys.Engine.Experiments;
using RecSys.Server.Configuration;
using RecSys.Server.Hosting;

namespace RecSys.Server.Experiments;

/// <summary>
/// Takes exposures off the request path: a request only enqueues, and one writer thread stores them
/// in batches. Memory is bounded twice, by exposures (<see cref="ExperimentOptions.ExposureQueue"/>)
/// and by the tracks they hold (<see cref="ExperimentOptions.ExposureQueueTracks"/>: an answer may
/// hold up to MaxLimit tracks); past either bound an exposure is dropped and counted, never waited for.
/// A failed store call is retried with back-off; a batch that fails <see cref="MaxAttempts"/> times is
/// dropped and counted, so one bad batch cannot stop the writer. Stopping stores what is queued.
/// </summary>
public sealed class ExposureRecorder(IExposureStore store, ExperimentOptions options, ILogger log) : IDisposable
{
    public const int MaxAttempts = 8;

    private readonly ConcurrentQueue<Exposure> _queue = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _queued;
    private long _tracks;

    public int Queued => Volatile.Read(ref _queued);

    /// <summary>Starts the writer on a thread of its own: its store calls block (fsync, COPY).</summary>
    public void Start() => new Thread(WriteLoop) { IsBackground = true, Name = "recsys exposure writer" }.Start();

    /// <summary>Queues an exposure; false (and counted) when the queue is full.</summary>
    public bool Record(Exposure exposure)
    {
        long tracks = exposure.Tracks.Length;
        // Both counts taken before either is checked: the refusal below gives both back.
        long queuedTracks = Interlocked.Add(ref _tracks, tracks);
        if (Interlocked.Increment(ref _queued) > options.ExposureQueue || queuedTracks > options.ExposureQueueTracks)
        {
            Release(1, tracks);
            ServerMetrics.ExposuresDropped.Inc();
            return false;
        }
        _queue.Enqueue(exposure);
        return true;
    }

    private void Release(int exposures, long tracks)
    {
        Interlocked.Add(ref _queued, -exposures);
        Interlocked.Add(ref _tracks, -tracks);
    }

    private void WriteLoop()
    {
        var batch = new List<Exposure>(Math.Min(options.ExposureBatch, 65_536));
        int attempts = 0;
        try
        {
            while (true)
            {
                bool stopping = _stop.IsCancellationRequested;
                if (batch.Count == 0)
                {
                    // Polled, not signalled: an exposure waits at most one flush interval, and a request
                    // never pays for waking the writer.
                    if (_queue.IsEmpty)
                    {
                        if (stopping) return;
                        _stop.Token.WaitHandle.WaitOne(options.ExposureFlushMilliseconds);
                        continue;
                    }
                    while (batch.Count < options.ExposureBatch && _queue.TryDequeue(out var exposure)) batch.Add(exposure);
                }
                try
                {
                    store.Append(batch);
                    ServerMetrics.ExposuresStored.Inc(batch.Count);
                    Done(batch);
                    attempts = 0;
                }
                catch (Exception e)
                {
                    ServerMetrics.ExposureStoreFailures.Inc();
                    attempts++;
                    if (stopping || attempts >= MaxAttempts)
                    {
                        log.LogError("dropped {Count} exposures after {Attempts} failed attempts to store them in {Store}: {Message}", batch.Count, attempts, store.Description, e.Message);
                        ServerMetrics.ExposuresDropped.Inc(batch.Count);
                        Done(batch);
                        attempts = 0;
                        continue;
                    }
                    var delay = TimeSpan.FromMilliseconds(Math.Min(100 << Math.Min(attempts, 7), 10_000));
                    log.LogWarning("could not store {Count} exposures in {Store} (attempt {Attempt}, again in {Delay} ms): {Message}", batch.Count, store.Description, attempts, delay.TotalMilliseconds, e.Message);
                    _stop.Token.WaitHandle.WaitOne(delay);
                }
            }
        }
        finally
        {
            _stopped.TrySetResult();
        }
    }

    private void Done(List<Exposure> batch)
    {
        long tracks = 0;
        foreach (var e in batch) tracks += e.Tracks.Length;
        Release(batch.Count, tracks);
        batch.Clear();
    }

    /// <summary>Stores what is queued and stops the writer (awaited, not joined: this may run on a socket thread).</summary>
    public Task StopAsync()
    {
        _stop.Cancel();
        return _stopped.Task;
    }

    public void Dispose()
    {
        _stop.Dispose();
        store.Dispose();
    }
}
