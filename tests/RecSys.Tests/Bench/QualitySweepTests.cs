using System.Text.Json;
using RecSys.Bench.Experiments;
using RecSys.Engine.Data;

namespace RecSys.Tests.Bench;

/// <summary>The quality-table command on a tiny file: it runs, and its rows hold together.</summary>
public sealed class QualitySweepTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_small_sweep_reports_every_row_and_the_tuning_against_the_best()
    {
        var data = DemoCatalog.Generate(new DemoOptions { Users = 150, Tracks = 400, Plays = 6_000, Seed = 2 }).ToInteractions();
        string path = _dir.Write("plays.tsv", string.Join("\n", Enumerable.Range(0, data.Table.Count).Select(i => $"{data.Table.Users[i]}\t{data.Table.Items[i]}\t1")));
        var root = JsonDocument.Parse(QualitySweep.Measure(["--input", path, "--split", "user", "--settings", "4"]).ToJsonString()).RootElement;
        foreach (string row in new[] { "popularity", "original_design", "defaults_tune_off", "tune_auto", "sweep_best" })
        {
            Assert.InRange(root.GetProperty(row).GetProperty("ndcg@10").GetDouble(), 0, 1);
        }
        Assert.Equal(4, root.GetProperty("sweep_settings").GetInt32());
        // The sweep includes the defaults, so its best is at least as good.
        Assert.True(root.GetProperty("sweep_best").GetProperty("ndcg@10").GetDouble() >= root.GetProperty("defaults_tune_off").GetProperty("ndcg@10").GetDouble());
        Assert.Throws<ArgumentException>(() => QualitySweep.Measure(["--input", path, "--split", "sideways"]));
    }
}
