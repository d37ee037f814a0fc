using System.Text.Json;
using RecSys.Engine.Model;

namespace RecSys.Server.Hosting;

/// <summary>
/// Versioned models on disk: &lt;root&gt;/models/&lt;version&gt;/{model.npz, index files, manifest.json},
/// a "current" pointer file, and a history of promotions for rollback. Pointer updates are atomic
/// renames; the last N versions are kept (the current one always).
/// </summary>
public sealed class ModelStore(string root, int keep = 5)
{
    public const string ModelFileName = "model.npz";
    public const string ManifestFileName = "manifest.json";
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
    private readonly object _gate = new();

    public string Root { get; } = Path.GetFullPath(root);
    public string ModelsDirectory => Path.Combine(Root, "models");
    private string CurrentFile => Path.Combine(Root, "current");
    private string HistoryFile => Path.Combine(Root, "history");
    private string BrokenFile => Path.Combine(Root, "broken");

    public string VersionDirectory(string version) => Path.Combine(ModelsDirectory, version);

    /// <summary>The promoted version, or null when none is.</summary>
    public string? Current
    {
        get
        {
            if (!File.Exists(CurrentFile)) return null;
            string v = File.ReadAllText(CurrentFile).Trim();
            return v.Length == 0 ? null : v;
        }
    }

    /// <summary>All stored versions, oldest first (names sort by time).</summary>
    public IReadOnlyList<string> Versions() =>
        Directory.Exists(ModelsDirectory)
            ? Directory.GetDirectories(ModelsDirectory).Select(d => Path.GetFileName(d)).Where(v => File.Exists(Path.Combine(ModelsDirectory, v, ModelFileName))).Order(StringComparer.Ordinal).ToList()
            : [];

    public ModelManifest? ReadManifest(string version)
    {
        string path = Path.Combine(VersionDirectory(version), ManifestFileName);
        return File.Exists(path) ? JsonSerializer.Deserialize<ModelManifest>(File.ReadAllText(path)) : null;
    }

    /// <summary>Stores a new version (not promoted). Returns its name.</summary>
    public string Add(RecModel model, Func<string, ModelManifest> manifest)
    {
        lock (_gate)
        {
            string version = NewVersionName();
            string dir = VersionDirectory(version);
            string temp = dir + ".partial";
            if (Directory.Exists(temp)) Directory.Delete(temp, true);
            Directory.CreateDirectory(temp);
            ModelFile.Save(model, Path.Combine(temp, ModelFileName));
            WriteAtomic(Path.Combine(temp, ManifestFileName), JsonSerializer.Serialize(manifest(version), Indented));
            Directory.Move(temp, dir);
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

    /// <summary>A file's SHA-256, lower-case hex.</summary>
    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
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
        catch (Exception e) when (e is JsonException or IOException)
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

    /// <summary>Forgets that <paramref name="version"/> did not load (it was promoted again, so it does now).</summary>
    private void ClearBroken(string version)
    {
        var broken = Broken().Where(b => b.Key != version);
        WriteAtomic(BrokenFile, string.Join('\n', broken.Select(b => $"{b.Key}\t{b.Value}")));
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
            var history = History();
            if (history.Count == 0 || history[^1] != version) history.Add(version);
            WriteAtomic(HistoryFile, string.Join('\n', history));
            WriteAtomic(CurrentFile, version);
            if (Broken().ContainsKey(version)) ClearBroken(version);
            if (prune) Prune();
        }
    }

    /// <summary>Makes the previously promoted version current again; returns it.</summary>
    public string Rollback()
    {
        lock (_gate)
        {
            var history = History();
            string? current = Current;
            // Drop the current version and any entries whose files are gone.
            var broken = Broken();
            while (history.Count > 0 && (history[^1] == current || !Versions().Contains(history[^1]) || broken.ContainsKey(history[^1]))) history.RemoveAt(history.Count - 1);
            if (history.Count == 0) throw new InvalidOperationException("no earlier promoted version to roll back to");
            string previous = history[^1];
            WriteAtomic(HistoryFile, string.Join('\n', history));
            WriteAtomic(CurrentFile, previous);
            return previous;
        }
    }

    /// <summary>The promoted versions, oldest first (a version promoted again appears again).</summary>
    public IReadOnlyList<string> PromotionHistory() => History();

    private List<string> History() => File.Exists(HistoryFile)
        ? File.ReadAllLines(HistoryFile).Select(l => l.Trim()).Where(l => l.Length > 0).ToList()
        : [];

    /// <summary>Deletes the oldest versions beyond the kept number, never the current one or the rollback target.</summary>
    private void Prune()
    {
        var versions = Versions();
        string? current = Current;
        var history = History();
        string? previous = history.Count >= 2 ? history[^2] : null;
        int excess = versions.Count - Math.Max(1, keep);
        foreach (string v in versions)
        {
            if (excess <= 0) break;
            if (v == current || v == previous) continue;
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

    private static void WriteAtomic(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string temp = $"{path}.{Environment.ProcessId}.tmp";
        File.WriteAllText(temp, text);
        File.Move(temp, path, overwrite: true);
    }
}
