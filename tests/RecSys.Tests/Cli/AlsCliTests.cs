using System.Globalization;
using System.Text.Json;
using RecSys.Engine.Data;
using RecSys.Engine.Model;

namespace RecSys.Tests.Cli;

public sealed class AlsCliTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A small Last.fm-style file from the demo generator's qualified plays.</summary>
    private string PlaysFile()
    {
        var data = DemoCatalog.Generate(new DemoOptions { Users = 300, Tracks = 800, Plays = 20_000, Seed = 9 }).ToInteractions();
        var lines = new List<string> { "userID\tartistID\tweight" };
        for (int i = 0; i < data.Table.Count; i++) lines.Add($"{data.Table.Users[i]}\t{data.Table.Items[i]}\t1");
        return _dir.Write("user_artists.dat", string.Join("\n", lines));
    }

    [Fact]
    public void Train_writes_a_model_and_prints_the_documented_json()
    {
        string input = PlaysFile();
        string model = _dir.File("out/model.npz");
        var r = RecsysCli.Run("train", "--input", input, "--out", model, "--factors", "8", "--iterations", "3", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var names = doc.RootElement.EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Equal(["users", "items", "interactions", "factors", "iterations", "seconds_per_iteration", "train_seconds"], names);
        Assert.Equal(8, doc.RootElement.GetProperty("factors").GetInt32());
        var m = ModelFile.Load(model);
        Assert.Equal(doc.RootElement.GetProperty("users").GetInt32(), m.UserCount);
        Assert.NotNull(m.UserItems);
        Assert.NotNull(m.ItemPopularity);
        Assert.Contains("\"factors\":8", m.ParametersJson);
    }

    [Fact]
    public void Recommend_writes_ranked_tsv_without_heard_tracks()
    {
        string input = PlaysFile();
        string model = _dir.File("model.npz");
        Assert.Equal(0, RecsysCli.Run("train", "--input", input, "--out", model, "--factors", "8", "--iterations", "3", "--json").ExitCode);
        var m = ModelFile.Load(model);
        string users = _dir.Write("users.txt", $"user_id\n{m.UserIds[0]}\n{m.UserIds[5]}\n");
        string output = _dir.File("recs.tsv");
        var r = RecsysCli.Run("recommend", "--model", model, "--users", users, "--k", "4", "--out", output);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var rows = File.ReadAllLines(output).Select(l => l.Split('\t')).ToArray();
        Assert.Equal(8, rows.Length);
        foreach (var group in rows.GroupBy(x => long.Parse(x[0], CultureInfo.InvariantCulture)))
        {
            int u = m.UserIndex.IndexOf(group.Key);
            var heard = m.UserItems!.RowIndices(u).ToArray().Select(i => m.TrackIds[i]).ToHashSet();
            var scores = group.Select(x => float.Parse(x[2], CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(scores.OrderDescending(), scores);
            Assert.DoesNotContain(group, x => heard.Contains(long.Parse(x[1], CultureInfo.InvariantCulture)));
        }

        var all = RecsysCli.Run("recommend", "--model", model, "--users", "all", "--k", "2", "--out", output);
        Assert.Equal(0, all.ExitCode);
        Assert.Equal(m.UserCount * 2, File.ReadAllLines(output).Length);

        string unknown = _dir.Write("unknown.txt", "123456789\n");
        var bad = RecsysCli.Run("recommend", "--model", model, "--users", unknown, "--out", output);
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("user 123456789 is not in the model", bad.Stderr);
    }

    [Fact]
    public void Recommend_on_the_ilgpu_accelerator_writes_what_the_cpu_writes()
    {
        string input = PlaysFile();
        string model = _dir.File("model.npz");
        Assert.Equal(0, RecsysCli.Run("train", "--input", input, "--out", model, "--factors", "8", "--iterations", "3", "--json").ExitCode);
        string onCpu = _dir.File("cpu.tsv"), onDevice = _dir.File("device.tsv");
        var cpu = RecsysCli.Run("recommend", "--model", model, "--k", "5", "--out", onCpu, "--device", "cpu");
        Assert.True(cpu.ExitCode == 0, cpu.Stderr);
        Assert.Contains("device: cpu requested", cpu.Stderr);
        var device = RecsysCli.Run("recommend", "--model", model, "--k", "5", "--out", onDevice, "--device", "ilgpu-cpu");
        Assert.True(device.ExitCode == 0, device.Stderr);
        Assert.Contains("ILGPU CPU accelerator", device.Stderr);
        // The same users, list lengths and scores to float rounding (G7 text); a track may differ only
        // where two scores tie within that rounding (the device sums factors in another order).
        var a = File.ReadAllLines(onCpu).Select(l => l.Split('\t')).ToArray();
        var b = File.ReadAllLines(onDevice).Select(l => l.Split('\t')).ToArray();
        Assert.Equal(a.Select(x => x[0]), b.Select(x => x[0]));
        for (int i = 0; i < a.Length; i++)
        {
            Tolerance.AssertClose(double.Parse(a[i][2], CultureInfo.InvariantCulture), double.Parse(b[i][2], CultureInfo.InvariantCulture), 1e-5, 1e-5, $"line {i + 1}");
            if (a[i][1] != b[i][1])
            {
                var m = ModelFile.Load(model);
                int user = m.UserIndex.IndexOf(long.Parse(a[i][0], CultureInfo.InvariantCulture));
                double Score(string track) => Enumerable.Range(0, m.Factors).Sum(f =>
                    (double)m.UserFactors[user * m.Factors + f] * m.ItemFactors[m.TrackIndex.IndexOf(long.Parse(track, CultureInfo.InvariantCulture)) * m.Factors + f]);
                Tolerance.AssertClose(Score(a[i][1]), Score(b[i][1]), 1e-5, 1e-5, $"line {i + 1}: tracks {a[i][1]} and {b[i][1]} must tie");
            }
        }

        var unknown = RecsysCli.Run("recommend", "--model", model, "--out", onDevice, "--device", "tpu");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("--device: Unknown device 'tpu'", unknown.Stderr);
        var tooMany = RecsysCli.Run("recommend", "--model", model, "--k", "500", "--out", onDevice, "--device", "ilgpu-cpu");
        Assert.Equal(1, tooMany.ExitCode);
        Assert.Contains("at most 128 per user", tooMany.Stderr);
    }

    [Fact]
    public void Eval_prints_als_and_popularity_metrics()
    {
        string input = PlaysFile();
        var r = RecsysCli.Run("eval", "--input", input, "--test-fraction", "0.2", "--seed", "42", "--k", "10", "--factors", "8", "--iterations", "4", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        foreach (string side in new[] { "als", "popularity" })
        {
            var names = doc.RootElement.GetProperty(side).EnumerateObject().Select(p => p.Name).ToArray();
            Assert.Equal(["precision@10", "recall@10", "ndcg@10", "map@10", "auc", "coverage@10", "popularity_percentile@10", "diversity@10"], names);
        }
        // Popularity recommends the same hits to everyone: less of the catalog, and more popular. (Not
        // less diverse: ALS lists stay within a listener's taste, whose tracks share listeners.)
        double Metric(string side, string name) => doc.RootElement.GetProperty(side).GetProperty(name).GetDouble();
        Assert.True(Metric("als", "coverage@10") > Metric("popularity", "coverage@10"));
        Assert.True(Metric("als", "popularity_percentile@10") < Metric("popularity", "popularity_percentile@10"));
        Assert.InRange(Metric("als", "diversity@10"), 0, 1);
        Assert.True(doc.RootElement.GetProperty("seconds_per_iteration").GetDouble() > 0);
        // The demo's taste structure is learnable: ALS beats popularity.
        Assert.True(doc.RootElement.GetProperty("als").GetProperty("ndcg@10").GetDouble() >
                    doc.RootElement.GetProperty("popularity").GetProperty("ndcg@10").GetDouble());
    }

    [Fact]
    public void Eval_with_train_and_test_files()
    {
        string train = _dir.Write("train.csv", "u,i\n1,1\n1,2\n2,2\n2,3\n3,1\n3,3\n");
        string test = _dir.Write("test.csv", "u,i\n1,3\n2,1\n");
        var r = RecsysCli.Run("eval", "--train", train, "--test", test, "--factors", "2", "--iterations", "2", "--k", "2", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(2, JsonDocument.Parse(r.Stdout).RootElement.GetProperty("users_evaluated").GetInt32());
    }

    [Fact]
    public void Tune_reports_the_best_setting_from_validation()
    {
        string input = PlaysFile();
        var r = RecsysCli.Run("tune", "--input", input, "--trials", "3", "--iterations", "2", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal(3, doc.RootElement.GetProperty("trials").GetArrayLength());
        Assert.True(doc.RootElement.GetProperty("best").TryGetProperty("regularization", out _));
        Assert.True(doc.RootElement.GetProperty("test").TryGetProperty("ndcg@10", out _));
    }

    [Theory]
    [InlineData("--factors", "0", "--factors")]
    [InlineData("--regularization", "-1", "--regularization")]
    [InlineData("--scaling", "cubic", "Unknown confidence scaling 'cubic'")]
    [InlineData("--solver", "lu", "--solver must be cg or cholesky")]
    public void Bad_training_options_are_named(string option, string value, string expected)
    {
        var r = RecsysCli.Run("train", "--input", PlaysFile(), "--out", _dir.File("m.npz"), option, value);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(expected, r.Stderr);
        Assert.False(File.Exists(_dir.File("m.npz")));
    }
}
