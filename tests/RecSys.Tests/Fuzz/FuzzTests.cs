using RecSys.Bench.Experiments;

namespace RecSys.Tests.Fuzz;

/// <summary>
/// The fuzz harness at CI size (seeded: the same inputs every run): every mutated input is accepted or
/// refused with the reader's own error, never another exception or a hang. <c>B fuzz --cases N</c> runs
/// it at length; each crash it finds becomes a regression test next to the reader it broke.
/// </summary>
public sealed class FuzzTests
{
    public static TheoryData<string> Targets => [.. Fuzzer.Targets];

    [Theory]
    [MemberData(nameof(Targets))]
    public void Mutated_inputs_are_accepted_or_refused_never_a_crash(string target)
    {
        var report = Fuzzer.Run(target, cases: 400, seed: 11);
        Assert.True(report.Failures.Count == 0, string.Join(Environment.NewLine, report.Failures));
        Assert.Equal(400, report.Accepted + report.Refused);
        // The mutations reach past the first check: some inputs still read, most are refused.
        Assert.True(report.Refused > 0, $"{target}: nothing refused");
    }

    [Fact]
    public async Task Mutated_http_requests_never_get_a_500_or_a_hang()
    {
        await using var server = await RecSys.Tests.Server.TestServer.StartAsync();
        var report = await HttpFuzzer.RunAsync(server.Http.BaseAddress!, cases: 300, seed: 12);
        Assert.True(report.Failures.Count == 0, string.Join(Environment.NewLine, report.Failures));
        Assert.True(report.Refused > 0 && report.Accepted > 0, $"accepted {report.Accepted}, refused {report.Refused}");
    }
}
