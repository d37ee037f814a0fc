using RecSys.Bench.Soak;
using RecSys.Tests.Server;

namespace RecSys.Tests.Bench;

/// <summary>The soak against the real server over loopback, briefly: traffic, events and reloads counted and judged.</summary>
public sealed class SoakRunTests
{
    [Fact]
    public async Task A_short_soak_counts_every_answer_and_the_faults_it_injected()
    {
        await using var server = await TestServer.StartAsync();
        var options = new SoakOptions(server.Http.BaseAddress!, TimeSpan.FromSeconds(3), Environment.ProcessId, TestServer.Token, Ids: 300, Connections: 2,
            Events: true, ReloadEvery: TimeSpan.FromSeconds(1), TrainEvery: TimeSpan.FromHours(1), DbStop: null, DbStart: null,
            OutageEvery: TimeSpan.FromHours(1), OutageLength: TimeSpan.FromSeconds(1), SampleEvery: TimeSpan.FromSeconds(1));
        var run = new SoakRun(options);
        await Task.Factory.StartNew(() => run.RunAsync(), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();

        Assert.True(run.Failed == 0, string.Join(Environment.NewLine, run.Failures));
        Assert.True(run.Requests > 0);
        Assert.Equal(run.Requests, run.Statuses.Values.Sum());
        Assert.Equal(run.Requests, run.Endpoints.Values.Sum(e => e.Ok + e.Failed));
        Assert.Contains("events", run.Endpoints.Keys);
        Assert.Contains(run.Faults, f => f.Contains("POST /admin/reload → 200"));
        // A sample at the start, one a second, one at the end: memory read from /proc and /metrics.
        Assert.True(run.Samples.Count >= 3, $"{run.Samples.Count} samples");
        Assert.All(run.Samples, s => Assert.True(s.RssMb > 0 && s.HeapMb > 0, $"sample {s}"));
    }

    [Fact]
    public async Task Requests_nobody_answers_are_failures_with_their_message()
    {
        // Nothing listens here: every request is a transport failure, kept with its message.
        var options = new SoakOptions(new Uri("http://127.0.0.1:9"), TimeSpan.FromSeconds(1), null, null, Ids: 10, Connections: 1,
            Events: false, ReloadEvery: TimeSpan.FromHours(1), TrainEvery: TimeSpan.FromHours(1), DbStop: null, DbStart: null,
            OutageEvery: TimeSpan.FromHours(1), OutageLength: TimeSpan.FromSeconds(1), SampleEvery: TimeSpan.FromHours(1));
        var run = new SoakRun(options);
        await run.RunAsync();
        Assert.True(run.Failed > 0);
        Assert.Equal(run.Requests, run.Failed);
        Assert.Contains(run.Failures, f => f.Contains("HttpRequestException"));
    }
}
