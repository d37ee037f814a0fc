using Microsoft.Extensions.Logging.Abstractions;
using RecSys.Engine.Experiments;
using RecSys.Server.Configuration;
using RecSys.Server.Experiments;
using RecSys.Server.Hosting;

namespace RecSys.Tests.Server;

/// <summary>The exposure queue: bounded, batched, counted when the store falls behind.</summary>
[Collection(nameof(ExposureRecorderTests))]
[CollectionDefinition(nameof(ExposureRecorderTests), DisableParallelization = true)]
public sealed class ExposureRecorderTests
{
    private static Exposure Exposure(int n) => new(Guid.NewGuid(), "x", "control", n, DateTime.UtcNow, [n], [0]);

    [Fact]
    public async Task Everything_queued_is_stored_by_the_time_it_stops()
    {
        using var dir = new TempDir();
        var recorder = new ExposureRecorder(ExposureLog.Open(dir.Path), new ExperimentOptions { ExposureBatch = 7 }, NullLogger.Instance);
        recorder.Start();
        await Parallel.ForAsync(0, 1000, (n, _) =>
        {
            Assert.True(recorder.Record(Exposure(n)));
            return ValueTask.CompletedTask;
        });
        await recorder.StopAsync();
        recorder.Dispose();
        var stored = ExposureLog.ReadFile(ExposureLog.PathIn(dir.Path)).Select(e => e.UserId).Order().ToArray();
        Assert.Equal(Enumerable.Range(0, 1000).Select(n => (long)n), stored);
    }

    [Fact]
    public async Task A_store_that_fails_fills_the_queue_and_the_rest_is_dropped_and_counted()
    {
        using var dir = new TempDir();
        var broken = ExposureLog.Open(dir.Path);
        broken.Dispose(); // every write now fails
        double dropped = ServerMetrics.ExposuresDropped.Value, failures = ServerMetrics.ExposureStoreFailures.Value;
        var recorder = new ExposureRecorder(broken, new ExperimentOptions { ExposureQueue = 10, ExposureFlushMilliseconds = 5 }, NullLogger.Instance);
        recorder.Start();
        int accepted = Enumerable.Range(0, 25).Count(n => recorder.Record(Exposure(n)));
        Assert.Equal(10, accepted);
        Assert.Equal(15, ServerMetrics.ExposuresDropped.Value - dropped);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (ServerMetrics.ExposureStoreFailures.Value == failures && DateTime.UtcNow < deadline) await Task.Delay(10);
        Assert.True(ServerMetrics.ExposureStoreFailures.Value > failures, "the failed store call is counted");
        // Stopping cannot store them either: they are dropped and counted, not waited for forever.
        await recorder.StopAsync();
        recorder.Dispose();
        Assert.Equal(25, ServerMetrics.ExposuresDropped.Value - dropped);
        Assert.Equal(0, recorder.Queued);
    }
}
