using Npgsql;
using RecSys.Server.Cluster;
using RecSys.Server.Hosting;

namespace RecSys.Tests.Server;

/// <summary>
/// The shared registry on a real PostgreSQL: changes from two nodes queue rather than overwrite, a node's
/// own files seed it once, a change is announced only when it commits, the store behaves the same on
/// it as on files, and <c>model promote/rollback --db</c> move it.
/// </summary>
public sealed class PromotionRegistryTests : IClassFixture<PostgresFixture>, IDisposable
{
    private readonly PostgresFixture _db;
    private readonly TempDir _dir = new();
    private readonly List<NpgsqlDataSource> _sources = [];

    public PromotionRegistryTests(PostgresFixture db)
    {
        _db = db;
        _db.Execute("DROP TABLE IF EXISTS recsys_model_registry, recsys_model_changes, recsys_model_versions, recsys_trainings");
    }

    public void Dispose()
    {
        foreach (var s in _sources) s.Dispose();
        _dir.Dispose();
    }

    private PostgresPromotionRegistry Registry(string node, string? connectionString = null, FilePromotionRegistry? mirror = null)
    {
        // Pooled, as a server's is: fifty changes do not open fifty sessions.
        var source = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString ?? _db.ConnectionString) { Pooling = true }.ConnectionString);
        _sources.Add(source);
        return new PostgresPromotionRegistry(source, node, mirror ?? new FilePromotionRegistry(_dir.File($"mirror-{node}-{Guid.NewGuid():N}")));
    }

    [Fact]
    public void Changes_from_two_nodes_at_once_queue_instead_of_overwriting_each_other()
    {
        var a = Registry("a");
        var b = Registry("b");
        const int each = 25;
        Parallel.For(0, 2, node =>
        {
            var registry = node == 0 ? a : b;
            for (int i = 0; i < each; i++)
            {
                string version = $"{node}-{i}";
                registry.Change(s => new PromotionState(version, [.. s.History, version]), "promote");
            }
        });
        var state = a.Read();
        Assert.Equal(2 * each, state.History.Count);
        Assert.Equal(2 * each, state.History.Distinct().Count());
        Assert.Equal(state.History[^1], state.Current);
        // Each node's own versions stay in its order.
        foreach (string node in new[] { "0", "1" })
        {
            Assert.Equal(Enumerable.Range(0, each).Select(i => $"{node}-{i}"), state.History.Where(v => v.StartsWith(node + "-", StringComparison.Ordinal)));
        }
        Assert.Equal(each, _db.Scalar("SELECT count(*) FROM recsys_model_changes WHERE node = 'a'"));
        Assert.Equal(each, _db.Scalar("SELECT count(*) FROM recsys_model_changes WHERE node = 'b'"));
    }

    private FilePromotionRegistry Files(string name, string? current, params string[] history)
    {
        var files = new FilePromotionRegistry(_dir.File(name));
        files.Change(_ => new PromotionState(current, history), "test");
        return files;
    }

    [Fact]
    public void A_nodes_own_files_seed_a_new_registry_once_and_every_change_is_written_back_to_them()
    {
        var first = Files("first", "20260101T000000000Z", "20251231T000000000Z", "20260101T000000000Z");
        var registry = Registry("first", mirror: first);
        Assert.Equal("20260101T000000000Z", registry.Read().Current);
        // A second node with other files joins: the registry keeps what it has.
        var second = Registry("second", mirror: Files("second", "20270101T000000000Z", "20270101T000000000Z"));
        Assert.Equal(["20251231T000000000Z", "20260101T000000000Z"], second.Read().History);

        second.Change(s => new PromotionState("20280101T000000000Z", [.. s.History, "20280101T000000000Z"]), "promote");
        Assert.Equal("20280101T000000000Z", new FilePromotionRegistry(_dir.File("second")).Read().Current);
        Assert.Equal(3, new FilePromotionRegistry(_dir.File("second")).Read().History.Count);
    }

    [Fact]
    public void While_the_database_is_away_reads_fall_back_to_the_files_and_changes_fail()
    {
        var files = Files("away", "20260101T000000000Z", "20260101T000000000Z");
        // Nothing listens on port 1: every connection is refused at once.
        var registry = Registry("away", "Host=127.0.0.1;Port=1;Username=postgres;Timeout=2", files);
        Assert.Equal("20260101T000000000Z", registry.Read().Current);
        Assert.Contains("cannot be used", registry.Problem);
        var e = Assert.Throws<IOException>(() => registry.Change(s => new PromotionState("x", [.. s.History, "x"]), "promote"));
        Assert.Contains("PostgreSQL", e.Message);
        Assert.Equal("20260101T000000000Z", files.Read().Current);
    }

    [Fact]
    public async Task A_change_is_announced_when_it_commits_and_not_when_it_fails()
    {
        var registry = Registry("n");
        await using var listener = new NpgsqlConnection(_db.ConnectionString);
        await listener.OpenAsync();
        var heard = new List<string>();
        listener.Notification += (_, e) => heard.Add(e.Payload);
        await using (var listen = new NpgsqlCommand($"LISTEN {ClusterSchema.Channel}", listener)) await listen.ExecuteNonQueryAsync();

        // The registry blocks; after an await this may be a socket thread (the inline-completions rerun), so on the pool.
        await Assert.ThrowsAsync<InvalidOperationException>(() => Task.Run(() => registry.Change(_ => throw new InvalidOperationException("refused"), "promote")));
        Assert.False(await listener.WaitAsync(300), "a change that failed was announced");
        Assert.Null((await Task.Run(registry.Read)).Current);

        await Task.Run(() => registry.Change(s => new PromotionState("v1", [.. s.History, "v1"]), "promote"));
        Assert.True(await listener.WaitAsync(5000), "the change was not announced");
        Assert.Equal(["v1"], heard);
    }

    [Fact]
    public void The_store_promotes_and_rolls_back_the_same_on_the_registry_as_on_files()
    {
        PromotionState Run(ModelStore store)
        {
            var versions = Enumerable.Range(0, 3).Select(_ => store.Add(Model.ModelFileTests.SampleModel(), v => new ModelManifest { Version = v })).ToList();
            foreach (string v in versions) store.Promote(v);
            Assert.Equal(versions[1], store.RollbackTarget());
            Assert.Equal(versions[1], store.Rollback());
            Assert.Equal(versions[0], store.Rollback(expected: versions[0]));
            Assert.Throws<InvalidOperationException>(() => store.Rollback(expected: versions[2]));
            var state = store.Registry.Read();
            // Names differ between the two stores: compare positions in the order they were added.
            return new PromotionState(versions.IndexOf(state.Current!).ToString(System.Globalization.CultureInfo.InvariantCulture),
                [.. state.History.Select(h => versions.IndexOf(h).ToString(System.Globalization.CultureInfo.InvariantCulture))]);
        }
        var onFiles = Run(new ModelStore(_dir.File("files")));
        var onRegistry = Run(new ModelStore(_dir.File("shared"), registry: Registry("node")));
        Assert.Equal(onFiles.Current, onRegistry.Current);
        Assert.Equal(onFiles.History, onRegistry.History);
        Assert.Equal(3, _db.Scalar("SELECT count(*) FROM recsys_model_versions"));
    }

    [Fact]
    public void Model_promote_and_rollback_with_db_move_the_shared_registry()
    {
        string root = _dir.File("cli-store");
        var store = new ModelStore(root);
        string first = store.Add(Model.ModelFileTests.SampleModel(), v => new ModelManifest { Version = v });
        string second = store.Add(Model.ModelFileTests.SampleModel(), v => new ModelManifest { Version = v });

        Assert.Equal(0, RecsysCli.Run("model", "promote", first, "--storage", root, "--db", _db.ConnectionString).ExitCode);
        var promote = RecsysCli.Run("model", "promote", second, "--storage", root, "--db", _db.ConnectionString);
        Assert.True(promote.ExitCode == 0, promote.Stderr);
        Assert.Equal(second, Registry("check").Read().Current);
        // The store's own files follow it (a fallback while the database is away).
        Assert.Equal(second, store.Current);

        var rollback = RecsysCli.Run("model", "rollback", "--storage", root, "--db", _db.ConnectionString);
        Assert.True(rollback.ExitCode == 0, rollback.Stderr);
        Assert.Equal($"current: {first}", rollback.Stdout.Trim());
        Assert.Equal(first, Registry("check").Read().Current);
        Assert.Equal(1, _db.Scalar("SELECT count(*) FROM recsys_model_changes WHERE action = 'rollback' AND node LIKE 'cli@%'"));
    }
}
