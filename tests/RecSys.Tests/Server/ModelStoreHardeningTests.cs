using RecSys.Engine.IO;
using RecSys.Server.Hosting;

namespace RecSys.Tests.Server;

/// <summary>The store against what power losses, kill -9 and careless commands leave: half-written files, foreign names, broken versions.</summary>
public sealed class ModelStoreHardeningTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private ModelStore NewStore(int keep = 5) => new(_dir.File("store"), keep);

    private static string Add(ModelStore store) => store.Add(Model.ModelFileTests.SampleModel(), v => new ModelManifest { Version = v });

    [Fact]
    public void A_malformed_manifest_is_a_format_error_naming_the_file_and_rollback_skips_that_version()
    {
        var store = NewStore();
        string good = Add(store);
        store.Promote(good);
        string damaged = Add(store);
        store.Promote(damaged);
        string latest = Add(store);
        store.Promote(latest);
        File.WriteAllText(Path.Combine(store.VersionDirectory(damaged), ModelStore.ManifestFileName), "");
        var e = Assert.Throws<RecSys.Engine.Model.ModelFormatException>(() => store.ReadManifest(damaged));
        Assert.Contains("manifest.json: malformed manifest", e.Message);
        Assert.Equal(good, store.Rollback());
        Assert.True(store.Broken().ContainsKey(damaged));
    }

    [Theory]
    [InlineData("../../x")]
    [InlineData("/etc")]
    [InlineData("20260101T000000000Z.1234.partial")]
    [InlineData("20260101T000000000Z/..")]
    [InlineData("")]
    public void Only_version_names_are_accepted(string name)
    {
        var store = NewStore();
        Assert.Contains("not a model version name", Assert.Throws<InvalidOperationException>(() => store.Promote(name)).Message);
    }

    [Fact]
    public void Pruning_keeps_the_newest_good_versions_when_a_broken_one_is_promoted()
    {
        var store = NewStore(keep: 2);
        string v1 = Add(store);
        store.Promote(v1);
        string v2 = Add(store);
        store.Promote(v2);
        string v3 = Add(store);
        store.MarkBroken(v3, "test: does not load");
        store.Promote(v3);
        Assert.Equal([v1, v2, v3], store.Versions());

        string v4 = Add(store);
        store.Promote(v4);
        // Broken first, then the oldest; the rollback target (v2, v3 being broken) stays.
        Assert.Equal([v2, v4], store.Versions());
        Assert.Equal(v2, store.Rollback());
    }

    [Fact]
    public void Temporary_files_and_folders_of_dead_writers_are_removed_and_live_ones_kept()
    {
        var store = NewStore();
        string version = Add(store);
        string versionDir = store.VersionDirectory(version);
        const int dead = 999_999_9;
        string deadModel = Path.Combine(versionDir, $".model.npz.{dead}.{Guid.NewGuid():N}.tmp");
        string deadIndex = Path.Combine(versionDir, $"index-ip.hnsw.{dead}.{Guid.NewGuid():N}.tmp");
        string deadPointer = Path.Combine(store.Root, $"current.{dead}.tmp");
        string deadPartial = Path.Combine(store.ModelsDirectory, $"20260101T000000000Z.{dead}.partial");
        string oldPartial = Path.Combine(store.ModelsDirectory, "20260101T000000001Z.partial");
        // Written a minute ago or less: perhaps a live writer in another pid namespace sharing the folder.
        string fresh = Path.Combine(versionDir, $"index-cosine.hnsw.{dead}.{Guid.NewGuid():N}.tmp");
        var longAgo = DateTime.UtcNow.AddMinutes(-5);
        foreach (string f in new[] { deadModel, deadIndex, deadPointer })
        {
            File.WriteAllText(f, "x");
            File.SetLastWriteTimeUtc(f, longAgo);
        }
        File.WriteAllText(fresh, "x");
        foreach (string d in new[] { deadPartial, oldPartial })
        {
            Directory.CreateDirectory(d);
            Directory.SetLastWriteTimeUtc(d, longAgo);
        }

        Assert.Equal(5, store.RemoveStaleFiles().Count);
        Assert.False(File.Exists(deadModel) || File.Exists(deadIndex) || File.Exists(deadPointer));
        Assert.False(Directory.Exists(deadPartial) || Directory.Exists(oldPartial));
        Assert.True(File.Exists(fresh));
        Assert.True(File.Exists(Path.Combine(versionDir, ModelStore.ModelFileName)));
    }

    [Fact]
    public void Saving_a_model_removes_only_its_own_abandoned_temporary_files()
    {
        string folder = _dir.File("user-folder");
        Directory.CreateDirectory(folder);
        string own = Path.Combine(folder, $".model.npz.9999999.{Guid.NewGuid():N}.tmp");
        string someoneElses = Path.Combine(folder, "backup.2024.tmp");
        string otherTarget = Path.Combine(folder, $".other.npz.9999999.{Guid.NewGuid():N}.tmp");
        foreach (string f in new[] { own, someoneElses, otherTarget })
        {
            File.WriteAllText(f, "x");
            File.SetLastWriteTimeUtc(f, DateTime.UtcNow.AddHours(-1));
        }
        RecSys.Engine.Model.ModelFile.Save(Model.ModelFileTests.SampleModel(), Path.Combine(folder, "model.npz"));
        Assert.False(File.Exists(own));
        Assert.True(File.Exists(someoneElses));
        Assert.True(File.Exists(otherTarget));
    }

    [Theory]
    [InlineData(".model.npz.1234.0123456789abcdef0123456789abcdef.tmp", 1234)]
    [InlineData("current.77.tmp", 77)]
    [InlineData("20260101T000000000Z.5.partial", 5)]
    [InlineData("model.npz", null)]
    [InlineData("notes.tmp", null)]
    [InlineData("20260101T000000000Z.partial", null)]
    public void Temporary_names_give_their_writer(string name, int? pid) => Assert.Equal(pid, StaleTempFiles.WriterOf(name));

    [Fact]
    public void Durable_writes_replace_the_whole_file()
    {
        string path = _dir.File("pointer");
        DurableFile.WriteAllText(path, "a much longer first content");
        DurableFile.WriteAllText(path, "short");
        Assert.Equal("short", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(_dir.Path));
    }
}
