using System.Net;
using System.Text.Json;
using RecSys.Server.Hosting;

namespace RecSys.Tests.Server;

/// <summary>What a restart finds in the store: a current version that no longer loads, or the original design's model file.</summary>
public sealed class StartupRecoveryTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Storage => _dir.File("store");

    private Task<TestServer> Start(bool train) => TestServer.StartAsync(o =>
    {
        o.Storage = Storage;
        o.TrainIfMissing = train;
        return o;
    });

    /// <summary>A new version holding <paramref name="from"/>'s model file (to damage afterwards); returns that file's path.</summary>
    private static string CopyVersion(ModelStore store, string from, string to)
    {
        Directory.CreateDirectory(store.VersionDirectory(to));
        string model = Path.Combine(store.VersionDirectory(to), ModelStore.ModelFileName);
        File.Copy(Path.Combine(store.VersionDirectory(from), ModelStore.ModelFileName), model);
        return model;
    }

    [Fact]
    public async Task A_corrupt_current_version_falls_back_to_the_newest_one_that_loads()
    {
        string good;
        await using (var first = await Start(train: true)) good = first.Host.Current!.Version;

        // A later version that was never promoted (a candidate the quality gate refused), and a later
        // one still whose model file was cut short (a disk that filled up), made current.
        var store = new ModelStore(Storage);
        const string unpromoted = "29980101T000000000Z";
        CopyVersion(store, good, unpromoted);
        const string bad = "29990101T000000000Z";
        string model = CopyVersion(store, good, bad);
        File.WriteAllBytes(model, File.ReadAllBytes(model)[..(int)(new FileInfo(model).Length / 2)]);
        store.Promote(bad, prune: false);

        await using var s = await Start(train: false);
        Assert.Equal(good, s.Host.Current!.Version);
        Assert.Equal(good, store.Current);
        Assert.True(store.Broken().ContainsKey(bad));
        var described = JsonDocument.Parse(await s.Http.GetStringAsync("/model")).RootElement;
        Assert.True(described.GetProperty("broken_versions").TryGetProperty(bad, out _));
        Assert.Contains(bad, described.GetProperty("last_reload").GetProperty("message").GetString());
        var r = await s.Http.GetAsync($"/recommend/user/{s.Host.Current.Model.UserIds[0]}/ml?limit=3");
        Assert.NotEqual("legacy", r.Headers.GetValues("X-Recommendation-Source").Single());
        // A rollback never returns to the broken version.
        Assert.Throws<InvalidOperationException>(() => store.Rollback());
    }

    [Fact]
    public async Task A_current_version_with_an_empty_manifest_is_skipped_at_start_up()
    {
        string good;
        await using (var first = await Start(train: true)) good = first.Host.Current!.Version;
        var store = new ModelStore(Storage);
        const string damaged = "29990101T000000000Z";
        CopyVersion(store, good, damaged);
        File.WriteAllText(Path.Combine(store.VersionDirectory(damaged), ModelStore.ManifestFileName), "");
        store.Promote(damaged, prune: false);

        await using var s = await Start(train: false);
        Assert.Equal(good, s.Host.Current!.Version);
        Assert.Contains("malformed manifest", store.Broken()[damaged]);
        // The pointer moved to the version that serves, so a reload loads that one.
        Assert.Equal(System.Net.HttpStatusCode.OK, (await s.Http.SendAsync(s.Admin("/admin/reload"))).StatusCode);

        // A manifest damaged while serving: /admin/reload refuses (409), the loaded model keeps serving.
        File.WriteAllText(Path.Combine(store.VersionDirectory(good), ModelStore.ManifestFileName), "{");
        Assert.Equal(System.Net.HttpStatusCode.Conflict, (await s.Http.SendAsync(s.Admin("/admin/reload"))).StatusCode);
        Assert.Equal(good, s.Host.Current!.Version);
    }

    [Fact]
    public async Task A_store_where_no_promoted_version_loads_trains_a_new_one()
    {
        var store = new ModelStore(Storage);
        const string bad = "20260101T000000000Z";
        Directory.CreateDirectory(store.VersionDirectory(bad));
        File.WriteAllText(Path.Combine(store.VersionDirectory(bad), ModelStore.ModelFileName), "not a zip");
        store.Promote(bad, prune: false);

        await using var s = await Start(train: true);
        Assert.NotEqual(bad, s.Host.Current!.Version);
        Assert.Equal(s.Host.Current.Version, store.Current);
        Assert.True(store.Broken().ContainsKey(bad));
    }

    [Fact]
    public async Task The_original_designs_model_file_is_imported_once_at_start_up()
    {
        Directory.CreateDirectory(Storage);
        File.Copy(Path.Combine(AppContext.BaseDirectory, "fixtures", "numpy_savez.npz"), Path.Combine(Storage, "model.npz"));
        string version;
        await using (var s = await Start(train: false))
        {
            version = s.Host.Current!.Version;
            var model = JsonDocument.Parse(await s.Http.GetStringAsync("/model")).RootElement;
            Assert.StartsWith("import:", model.GetProperty("source").GetString());
            var r = await s.Http.GetAsync("/recommend/user/10/ml?limit=2");
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal("ml", r.Headers.GetValues("X-Recommendation-Source").Single());
        }
        await using (var again = await Start(train: false))
        {
            Assert.Equal(version, again.Host.Current!.Version);
        }
        Assert.Single(new ModelStore(Storage).Versions());
    }
}
