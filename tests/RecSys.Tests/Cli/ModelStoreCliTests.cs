using System.Text.Json;
using RecSys.Server.Hosting;

namespace RecSys.Tests.Cli;

/// <summary><c>model list|promote|rollback</c> on a store with damage in it: clear answers, no stack traces, nothing outside the store.</summary>
public sealed class ModelStoreCliTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Root => _dir.File("store");

    [Fact]
    public void List_names_a_version_with_a_malformed_manifest_and_promote_refuses_it()
    {
        var store = new ModelStore(Root);
        string good = store.Add(Model.ModelFileTests.SampleModel(), v => new ModelManifest { Version = v });
        store.Promote(good);
        string damaged = store.Add(Model.ModelFileTests.SampleModel(), v => new ModelManifest { Version = v });
        File.WriteAllText(Path.Combine(store.VersionDirectory(damaged), ModelStore.ManifestFileName), "{\"version\": ");

        var list = RecsysCli.Run("model", "list", "--storage", Root, "--json");
        Assert.True(list.ExitCode == 0, list.Stderr);
        var rows = JsonDocument.Parse(list.Stdout).RootElement.EnumerateArray().ToDictionary(r => r.GetProperty("version").GetString()!);
        Assert.Contains("malformed manifest", rows[damaged].GetProperty("broken").GetString());
        Assert.Equal(JsonValueKind.Null, rows[good].GetProperty("broken").ValueKind);

        var promote = RecsysCli.Run("model", "promote", damaged, "--storage", Root);
        Assert.Equal(1, promote.ExitCode);
        Assert.StartsWith("error:", promote.Stderr.Trim());
        Assert.Contains("malformed manifest", promote.Stderr);
        Assert.Equal(good, store.Current);
    }

    [Theory]
    [InlineData("../../outside")]
    [InlineData("/tmp")]
    public void Promote_refuses_paths_and_writes_nothing_outside_the_store(string name)
    {
        var r = RecsysCli.Run("model", "promote", name, "--storage", Root);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("not a model version name", r.Stderr);
        Assert.False(Directory.Exists(_dir.File("outside")));
    }
}
