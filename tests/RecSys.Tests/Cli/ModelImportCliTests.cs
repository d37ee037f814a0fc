using System.Text.Json;
using RecSys.Engine.Model;

namespace RecSys.Tests.Cli;

/// <summary><c>model import</c>: models written by numpy or by <c>train --out</c> become store versions, once.</summary>
public sealed class ModelImportCliTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", name);

    private string Store => _dir.File("store");

    private JsonElement Import(params string[] more)
    {
        var r = RecsysCli.Run(["model", "import", .. more, "--storage", Store, "--json"]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        return JsonDocument.Parse(r.Stdout).RootElement.Clone();
    }

    private JsonElement List()
    {
        var r = RecsysCli.Run("model", "list", "--storage", Store, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        return JsonDocument.Parse(r.Stdout).RootElement.Clone();
    }

    [Theory]
    [InlineData("numpy_savez.npz")]
    [InlineData("numpy_savez_compressed.npz")]
    public void A_numpy_model_is_imported_once_and_promoted(string fixture)
    {
        var first = Import(Fixture(fixture), "--promote");
        Assert.True(first.GetProperty("promoted").GetBoolean());
        Assert.False(first.GetProperty("already_imported").GetBoolean());
        string version = first.GetProperty("version").GetString()!;

        var again = Import(Fixture(fixture));
        Assert.True(again.GetProperty("already_imported").GetBoolean());
        Assert.Equal(version, again.GetProperty("version").GetString());

        var row = Assert.Single(List().EnumerateArray());
        Assert.True(row.GetProperty("current").GetBoolean());
        Assert.StartsWith("import:", row.GetProperty("source").GetString());
        var stored = ModelFile.Load(Path.Combine(Store, "models", version, "model.npz"));
        var original = ModelFile.Load(Fixture(fixture));
        Assert.Equal(original.ItemFactors, stored.ItemFactors);
        Assert.Equal(original.TrackIds, stored.TrackIds);
    }

    [Fact]
    public void A_model_of_another_catalog_is_stored_but_not_promoted_without_force()
    {
        Import(Fixture("numpy_savez.npz"), "--promote");
        var other = Model.ModelFileTests.SampleModel();
        var foreign = new RecModel(other.Factors, other.UserFactors, other.ItemFactors, other.UserIds, [7001, 7002, 7003, 7004]);
        string path = _dir.File("elsewhere.npz");
        ModelFile.Save(foreign, path);

        var refused = RecsysCli.Run("model", "import", path, "--promote", "--storage", Store);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("not promoted", refused.Stderr);
        Assert.Contains("shares 0 tracks with the current model", refused.Stderr);
        Assert.Equal(2, List().GetArrayLength());

        var forced = Import(path, "--promote", "--force");
        Assert.True(forced.GetProperty("promoted").GetBoolean());
        Assert.Single(forced.GetProperty("gate_overridden").EnumerateArray());
    }

    [Fact]
    public void A_file_that_is_not_a_model_is_refused_and_stores_nothing()
    {
        string path = _dir.Write("model.npz", "not a zip");
        var r = RecsysCli.Run("model", "import", path, "--storage", Store);
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("error:", r.Stderr.Trim());
        Assert.Equal(0, List().GetArrayLength());
    }
}
