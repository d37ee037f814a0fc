using RecSys.Bench.Load;
using RecSys.Tests.Server;

namespace RecSys.Tests.Bench;

/// <summary>The load driver against the real server over loopback (its timings are not asserted).</summary>
public sealed class LoadDriverTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private async Task<LoadDriver.LoadReport> Drive(string endpoint, int ids, int connections)
    {
        // The fixture's server is cold and shares this process's thread pool with the other tests:
        // one answered request first, and the driver on its own thread, keep the pool free to serve.
        (await fixture.Server.Http.GetAsync(endpoint == "ml" ? "/recommend/user/1/ml" : "/recommend/similar/1")).Dispose();
        var options = new LoadDriver.LoadOptions(
            fixture.Server.Http.BaseAddress!, endpoint, ids, connections, TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(200));
        return await Task.Factory.StartNew(() => LoadDriver.Measure(options), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    [Fact]
    public async Task Every_answer_is_counted_and_timed()
    {
        var report = await Drive("ml", ids: 300, connections: 3);

        Assert.True(report.Measured.Count > 0);
        Assert.Equal(0, report.Non2xx);
        Assert.True(report.Measured.Percentile(50) > 0);
        Assert.True(report.Corrected.Count >= report.Measured.Count);
        Assert.True(report.ExpectedIntervalMicros >= 1);
        Assert.True(report.RequestsPerSecond > 0);
    }

    [Fact]
    public async Task Connections_are_spread_over_every_url_in_turn()
    {
        (await fixture.Server.Http.GetAsync("/recommend/user/1/ml")).Dispose();
        var url = fixture.Server.Http.BaseAddress!;
        // The same server listed twice: what is checked is that each entry gets connections of its own and its answers are counted.
        var options = new LoadDriver.LoadOptions(url, "ml", 300, 4, TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(100)) { Urls = [url, url] };
        var report = await Task.Factory.StartNew(() => LoadDriver.Measure(options), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        Assert.Equal(2, report.AnswersPerUrl.Length);
        Assert.All(report.AnswersPerUrl, n => Assert.True(n > 0, $"answers per url: {string.Join(", ", report.AnswersPerUrl)}"));
        Assert.Equal(report.Measured.Count, report.AnswersPerUrl.Sum());
        var tooFew = options with { Connections = 1 };
        Assert.Throws<ArgumentException>(() => LoadDriver.Measure(tooFew));
    }

    [Fact]
    public async Task Error_answers_are_framed_and_counted_as_non_2xx()
    {
        // Track ids past the 1,500-track test catalog answer 404 problem+json; the rest 200.
        var report = await Drive("similar", ids: 6000, connections: 2);

        Assert.True(report.Measured.Count > 1);
        Assert.InRange(report.Non2xx, 1, report.Measured.Count - 1);
    }

    [Fact]
    public async Task An_unknown_endpoint_is_refused()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => Drive("popular", ids: 10, connections: 1));
        Assert.Contains("ml, similar or events", error.Message);
    }
}
