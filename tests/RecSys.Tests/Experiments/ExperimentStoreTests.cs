using RecSys.Engine.Experiments;

namespace RecSys.Tests.Experiments;

/// <summary>The embedded stores: definition versions and the exposure log.</summary>
public sealed class ExperimentStoreTests
{
    private static ExperimentDefinition Definition(string id) => new()
    {
        Id = id,
        Salt = id,
        Arms = [new ExperimentArm("control", 1, "ml"), new ExperimentArm("pop", 1, "popularity")],
        CreatedUtc = new DateTime(2026, 12, 1, 0, 0, 0, DateTimeKind.Utc),
    };

    [Fact]
    public void Versions_are_numbered_and_kept()
    {
        using var dir = new TempDir();
        var store = new ExperimentFiles(dir.Path);
        Assert.Empty(store.Latest());
        Assert.Equal(1, store.Save(Definition("a")).Version);
        Assert.Equal(2, store.Save(Definition("a") with { StopUtc = new DateTime(2026, 12, 2, 0, 0, 0, DateTimeKind.Utc) }).Version);
        Assert.Equal(1, store.Save(Definition("b")).Version);
        var latest = new ExperimentFiles(dir.Path).Latest();
        Assert.Equal(["a", "b"], latest.Select(d => d.Id));
        Assert.Equal(2, latest[0].Version);
        Assert.NotNull(latest[0].StopUtc);
        Assert.Equal([1, 2], store.History("a").Select(d => d.Version));
    }

    [Fact]
    public void Writers_racing_for_a_version_each_get_their_own()
    {
        using var dir = new TempDir();
        var versions = new int[16];
        Parallel.For(0, versions.Length, i => versions[i] = new ExperimentFiles(dir.Path).Save(Definition("race")).Version);
        Assert.Equal(Enumerable.Range(1, 16), versions.Order());
    }

    [Fact]
    public void A_damaged_definition_file_is_an_error_naming_it()
    {
        using var dir = new TempDir();
        var store = new ExperimentFiles(dir.Path);
        store.Save(Definition("a"));
        File.WriteAllText(Path.Combine(store.Directory, "a.v2.json"), "{\"id\":\"a\"");
        var e = Assert.Throws<InvalidDataException>(() => store.Latest());
        Assert.Contains("a.v2.json", e.Message);
        // Asked for problems, it leaves that experiment out (not its older version) and reads the others.
        store.Save(Definition("b"));
        var problems = new List<string>();
        Assert.Equal(["b"], store.Latest(problems).Select(d => d.Id));
        Assert.StartsWith("a: ", Assert.Single(problems));
    }

    private static Exposure Exposure(int n, string experiment = "x") =>
        new(Guid.NewGuid(), experiment, n % 2 == 0 ? "control" : "pop", n, new DateTime(2026, 12, 1, 0, 0, n % 60, DateTimeKind.Utc),
            [.. Enumerable.Range(0, n % 30).Select(t => (long)t * 1000 + n)], [.. Enumerable.Range(0, n % 30).Select(t => t * 7)]);

    [Fact]
    public void Exposures_round_trip_and_survive_reopening()
    {
        using var dir = new TempDir();
        var written = Enumerable.Range(0, 500).Select(n => Exposure(n, n % 3 == 0 ? "y" : "x")).ToList();
        using (var log = ExposureLog.Open(dir.Path))
        {
            log.Append(written[..200]);
            log.Append(written[200..]);
            Assert.Equal(written.Count(e => e.Experiment == "x"), log.Read("x").Count());
        }
        using var reopened = ExposureLog.Open(dir.Path);
        Assert.Equal(0, reopened.CutBytes);
        var read = reopened.Read("y").ToList();
        var expected = written.Where(e => e.Experiment == "y").ToList();
        Assert.Equal(expected.Count, read.Count);
        for (int i = 0; i < read.Count; i++)
        {
            Assert.Equal(expected[i].RecommendationId, read[i].RecommendationId);
            Assert.Equal(expected[i].Arm, read[i].Arm);
            Assert.Equal(expected[i].UserId, read[i].UserId);
            Assert.Equal(expected[i].ShownAtUtc, read[i].ShownAtUtc);
            Assert.Equal(expected[i].Tracks, read[i].Tracks);
            Assert.Equal(expected[i].DurationsMs, read[i].DurationsMs);
        }
    }

    [Fact]
    public void A_torn_tail_is_cut_at_open_and_readers_stop_before_it()
    {
        using var dir = new TempDir();
        using (var log = ExposureLog.Open(dir.Path)) log.Append([.. Enumerable.Range(0, 10).Select(n => Exposure(n))]);
        string path = ExposureLog.PathIn(dir.Path);
        long whole = new FileInfo(path).Length;
        using (var file = new FileStream(path, FileMode.Append)) file.Write(new byte[] { 200, 0, 0, 0, 1, 2, 3 });
        Assert.Equal(10, ExposureLog.ReadFile(path).Count());
        using (var log = ExposureLog.Open(dir.Path))
        {
            Assert.Equal(7, log.CutBytes);
            log.Append([Exposure(11)]);
        }
        Assert.True(new FileInfo(path).Length > whole);
        Assert.Equal(11, ExposureLog.ReadFile(path).Count());
        // What was cut is kept aside, not destroyed.
        var aside = Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!, "exposures.log.torn-*"));
        Assert.Equal(new byte[] { 200, 0, 0, 0, 1, 2, 3 }, File.ReadAllBytes(aside));
    }

    [Fact]
    public void A_header_cut_short_by_a_crash_starts_the_log_again()
    {
        using var dir = new TempDir();
        string path = ExposureLog.PathIn(dir.Path);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, "RSEX"u8.ToArray());
        using (var log = ExposureLog.Open(dir.Path)) log.Append([Exposure(1)]);
        Assert.Single(ExposureLog.ReadFile(path));
    }

    [Fact]
    public void A_file_that_is_not_an_exposure_log_is_refused()
    {
        using var dir = new TempDir();
        string path = ExposureLog.PathIn(dir.Path);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "user,track\n1,2\n");
        var e = Assert.Throws<InvalidDataException>(() => ExposureLog.Open(dir.Path));
        Assert.Contains(path, e.Message);
    }
}
