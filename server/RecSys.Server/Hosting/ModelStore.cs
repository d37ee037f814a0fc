using System.Text.Json;
using RecSys.Engine.IO;
using RecSys.Engine.Model;

namespace RecSys.Server.Hosting;

/// <summary>
/// Versioned models on disk: &lt;root&gt;/models/&lt;version&gt;/{model.npz, index files, manifest.json},
/// the versions found broken, and a registry of the current version and the promotions before it
/// (files in the root, or PostgreSQL shared by replicas: <see cref="IPromotionRegistry"/>).
/// Every file is written whole or not at all (temporary file, flushed, renamed, folder flushed), so a
/// power loss leaves the old content or the new. Version names are the store's own (a UTC time); no
/// other name, path or separator is accepted. Pruning keeps the newest good versions.
/// </summary>
public sealed class ModelStore(string root, int keep = 5, IPromotionRegistry? registry = null)
{
    public const string ModelFileName = "model.npz";
    public const string ManifestFileName = "manifest.json";
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
    private readonly object _gate = new();

    public string Root { get; } = Path.GetFullPath(root);
    public string ModelsDirectory => Path.Combine(Root, "models");
    public IPromotionRegistry Registry { get; } = registry ?? new FilePromotionRegistry(Path.GetFullPath(root));
    private string BrokenFile => Path.Combine(Root, "broken");

    /// <summary>A version's folder; refuses anything but a version name (no paths, no <c>.partial</c> folders).</summary>
    public string VersionDirectory(string version) =>
        IsVersionName(version) ? Path.Combine(ModelsDirectory, version)
        : throw new InvalidOperationException($"'{version}' is not a model version name (yyyyMMddTHHmmssfffZ, as 'model list' shows them)");

    /// <summary>Whether <paramref name="name"/> is a version name the store issues: a UTC time to the millisecond.</summary>
    public static bool IsVersionName(string? name) =>
        name is { Length: 19 } && name[8] == 'T' && name[18] == 'Z' && name.AsSpan(0, 8).IndexOfAnyExceptInRange('0', '9') < 0
            && name.AsSpan(9, 9).IndexOfAnyExceptInRange('0', '9') < 0;

    /// <summary>The promoted version, or null when none is.</summary>
    public string? Current => Registry.Read().Current;

    /// <summary>All stored versions, oldest first (names sort by time).</summary>
    public IReadOnlyList<string> Versions() =>
        Directory.Exists(ModelsDirectory)
            ? Directory.GetDirectories(ModelsDirectory).Select(d => Path.GetFileName(d)).Where(v => IsVersionName(v) && File.Exists(Path.Combine(ModelsDirectory, v, ModelFileName))).Order(StringComparer.Ordinal).ToList()
            : [];

    /// <summary>A version's manifest, null when it has none; a manifest that does not parse (a write cut short) is a <see cref="ModelFormatException"/> naming the file.</summary>
    public ModelManifest? ReadManifest(string version)
    {
        string path = Path.Combine(VersionDirectory(version), ManifestFileName);
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<ModelManifest>(File.ReadAllText(path))
                ?? throw new ModelFormatException($"{path}: the manifest is null");
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{path}: malformed manifest ({e.Message})");
        }
    }

    /// <summary>Stores a new version (not promoted). Returns its name.</summary>
    public string Add(RecModel model, Func<string, ModelManifest> manifest)
    {
        lock (_gate)
        {
            string version = NewVersionName();
            string dir = VersionDirectory(version);
            // Named with this process's id, so a start-up after a kill -9 knows it for a dead writer's.
            string temp = $"{dir}.{Environment.ProcessId}.partial";
            if (Directory.Exists(temp)) Directory.Delete(temp, true);
            Directory.CreateDirectory(temp);
            ModelFile.Save(model, Path.Combine(temp, ModelFileName));
            string manifestJson = JsonSerializer.Serialize(manifest(version), Indented);
            WriteAtomic(Path.Combine(temp, ManifestFileName), manifestJson);
            Directory.Move(temp, dir);
            DurableFile.FlushDirectory(ModelsDirectory);
            Registry.Added(version, manifestJson);
            return version;
        }
    }

    /// <summary>
    /// Stores a model file written elsewhere (RecSys's, or numpy's <c>savez</c>/<c>savez_compressed</c> with
    /// the original design's arrays) as a new version, not promoted; it is validated by loading it.
    /// </summary>
    public string Import(string path, string sha256, TimeProvider time)
    {
        var model = ModelFile.Load(path);
        if (model.ItemCount == 0) throw new ModelFormatException($"{path}: the model has no items");
        return Add(model, v => new ModelManifest
        {
            Version = v,
            TrainedAtUtc = time.GetUtcNow().UtcDateTime,
            Source = $"import:{Path.GetFullPath(path)}",
            Users = model.UserCount,
            Items = model.ItemCount,
            Interactions = model.UserItems?.Nnz ?? 0,
            Parameters = model.ParametersJson is null ? null : System.Text.Json.Nodes.JsonNode.Parse(model.ParametersJson),
            ImportedSha256 = sha256,
        });
    }

    /// <summary>The stored version imported from a file with this SHA-256, if any.</summary>
    public string? FindImport(string sha256) =>
        Versions().FirstOrDefault(v => TryReadManifest(v)?.ImportedSha256 == sha256);

    private ModelManifest? TryReadManifest(string version)
    {
        try
        {
            return ReadManifest(version);
        }
        catch (Exception e) when (e is ModelFormatException or IOException)
        {
            return null;
        }
    }

    /// <summary>Versions found not to load, with the reason (oldest first).</summary>
    public IReadOnlyDictionary<string, string> Broken()
    {
        var broken = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!File.Exists(BrokenFile)) return broken;
        foreach (string line in File.ReadAllLines(BrokenFile))
        {
            int tab = line.IndexOf('\t', StringComparison.Ordinal);
            if (tab > 0) broken[line[..tab]] = line[(tab + 1)..];
        }
        return broken;
    }

    /// <summary>Forgets that <paramref name="version"/> did not load (it loaded since: the fault was fixed, or was the disk's).</summary>
    public void ClearBroken(string version)
    {
        lock (_gate)
        {
            var broken = Broken();
            if (!broken.ContainsKey(version)) return;
            WriteAtomic(BrokenFile, string.Join('\n', broken.Where(b => b.Key != version).Select(b => $"{b.Key}\t{b.Value}")));
        }
    }

    /// <summary>Records that <paramref name="version"/> does not load; rollback and start-up recovery skip it.</summary>
    public void MarkBroken(string version, string reason)
    {
        lock (_gate)
        {
            var broken = new Dictionary<string, string>(Broken(), StringComparer.Ordinal) { [version] = reason.ReplaceLineEndings(" ") };
            WriteAtomic(BrokenFile, string.Join('\n', broken.Select(b => $"{b.Key}\t{b.Value}")));
        }
    }

    /// <summary>Makes a stored version current and records it in the history (and prunes old versions unless told not to).</summary>
    public void Promote(string version, bool prune = true)
    {
        lock (_gate)
        {
            if (!File.Exists(Path.Combine(VersionDirectory(version), ModelFileName)))
            {
                throw new InvalidOperationException($"no model version '{version}' in {ModelsDirectory}");
            }
            Registry.Change(state => new PromotionState(version,
                state.History.Count > 0 && state.History[^1] == version ? state.History : [.. state.History, version]), "promote");
            if (prune) Prune();
        }
    }

    /// <summary>
    /// Makes the previously promoted version current again; returns it. With <paramref name="expected"/>,
    /// nothing is written unless that is the version it would return (the caller loaded it first).
    /// </summary>
    public string Rollback(string? expected = null)
    {
        lock (_gate)
        {
            string previous = "";
            Registry.Change(state => RolledBack(state, expected, out previous), "rollback");
            return previous;
        }
    }

    private PromotionState RolledBack(PromotionState state, string? expected, out string previous)
    {
        // The entries after the target are dropped with the current version: their files are gone, they
        // are known broken, or their manifest does not parse (found broken now).
        int at = RollbackIndex(state.History, state.Current, Broken(), manifestMustRead: true);
        if (at < 0) throw new InvalidOperationException("no earlier promoted version to roll back to");
        previous = state.History[at];
        if (expected is not null && previous != expected)
        {
            throw new InvalidOperationException($"the version to roll back to is now {previous}, not {expected}: the store changed meanwhile");
        }
        return new PromotionState(previous, [.. state.History.Take(at + 1)]);
    }

    /// <summary>The version <see cref="Rollback"/> would make current, without moving anything; null when there is none.</summary>
    public string? RollbackTarget()
    {
        lock (_gate)
        {
            var (current, history) = Registry.Read();
            int at = RollbackIndex(history, current, Broken(), manifestMustRead: true);
            return at < 0 ? null : history[at];
        }
    }

    /// <summary>The promoted versions, oldest first (a version promoted again appears again).</summary>
    public IReadOnlyList<string> PromotionHistory() => History();

    private bool ManifestReads(string version)
    {
        try
        {
            ReadManifest(version);
            return true;
        }
        catch (ModelFormatException e)
        {
            MarkBroken(version, e.Message);
            return false;
        }
        catch (IOException)
        {
            // Unreadable right now (not malformed): skipped, not marked.
            return false;
        }
    }

    private List<string> History() => [.. Registry.Read().History];

    /// <summary>Versions something else serves (an experiment's <c>model:</c> arms): never pruned.</summary>
    public Func<IEnumerable<string>> Pinned { get; set; } = () => [];

    /// <summary>
    /// Deletes the versions beyond the kept number, broken ones first, then the oldest; never the current
    /// version, the one a rollback returns to, a pinned one, or the newest <c>keep</c> versions not known
    /// to be broken (so promoting a bad version cannot cost the last good one).
    /// </summary>
    private void Prune()
    {
        var versions = Versions();
        var broken = Broken();
        var kept = versions.Where(v => !broken.ContainsKey(v)).TakeLast(Math.Max(1, keep)).ToHashSet();
        kept.UnionWith(Pinned());
        var (current, history) = Registry.Read();
        if (current is not null) kept.Add(current);
        if (RollbackIndex(history, current, broken, manifestMustRead: false) is >= 0 and var at) kept.Add(history[at]);
        int excess = versions.Count - Math.Max(1, keep);
        foreach (string v in versions.OrderBy(v => broken.ContainsKey(v) ? 0 : 1).ThenBy(v => v, StringComparer.Ordinal))
        {
            if (excess <= 0) break;
            if (kept.Contains(v)) continue;
            try
            {
                Directory.Delete(VersionDirectory(v), true);
                excess--;
            }
            catch (IOException)
            {
                // In use or already gone: try again at the next promotion.
            }
        }
    }

    /// <summary>
    /// Where the newest promoted version before <paramref name="current"/> stands in <paramref name="history"/>
    /// that still exists and is not broken (with <paramref name="manifestMustRead"/>, whose manifest also
    /// parses; one that does not is marked broken); −1 when none does.
    /// </summary>
    private int RollbackIndex(IReadOnlyList<string> history, string? current, IReadOnlyDictionary<string, string> broken, bool manifestMustRead)
    {
        var versions = Versions();
        for (int i = history.Count - 1; i >= 0; i--)
        {
            string v = history[i];
            if (v != current && versions.Contains(v) && !broken.ContainsKey(v) && (!manifestMustRead || ManifestReads(v))) return i;
        }
        return -1;
    }

    private readonly HashSet<string> _issued = [];

    /// <summary>A UTC timestamp to the millisecond, never one used before (stored, in the history, or issued).</summary>
    private string NewVersionName()
    {
        var history = History();
        while (true)
        {
            string name = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmssfff'Z'", System.Globalization.CultureInfo.InvariantCulture);
            if (!_issued.Contains(name) && !history.Contains(name) && !Directory.Exists(VersionDirectory(name)))
            {
                _issued.Add(name);
                return name;
            }
            Thread.Sleep(1);
        }
    }

    private static void WriteAtomic(string path, string text) => DurableFile.WriteAllText(path, text);

    /// <summary>
    /// Deletes what writers killed mid-write left (temporary files, <c>.partial</c> version folders);
    /// returns their names. Run at start-up, before this process writes: a file named with this
    /// process's id is then a dead writer's too (a container's server is pid 1 after every restart).
    /// </summary>
    public List<string> RemoveStaleFiles()
    {
        var removed = StaleTempFiles.Remove(Root, ownProcessIsNew: true);
        removed.AddRange(StaleTempFiles.Remove(ModelsDirectory, ownProcessIsNew: true));
        foreach (string version in Versions()) removed.AddRange(StaleTempFiles.Remove(VersionDirectory(version), ownProcessIsNew: true));
        if (!Directory.Exists(ModelsDirectory)) return removed;
        // Folders of builds that named them without a process id, untouched for a while.
        foreach (string dir in Directory.GetDirectories(ModelsDirectory, "*.partial"))
        {
            string name = Path.GetFileName(dir);
            if (StaleTempFiles.WriterOf(name) is not null || DateTime.UtcNow - Directory.GetLastWriteTimeUtc(dir) < StaleTempFiles.Quiet) continue;
            try
            {
                Directory.Delete(dir, recursive: true);
                removed.Add(name);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // In use or not ours: the next start-up tries again.
            }
        }
        return removed;
    }
}
