using System.Globalization;
using RecSys.Engine.IO;

namespace RecSys.Engine.Experiments;

/// <summary>
/// The embedded experiment store: <c>&lt;storage&gt;/experiments/definitions/&lt;id&gt;.v&lt;N&gt;.json</c>,
/// one durable file per version. A version's number is claimed by creating its <c>.claim</c> file
/// exclusively, so two writers (the server and <c>recsys ab</c>) never take the same one.
/// </summary>
public sealed class ExperimentFiles(string storage) : IExperimentStore
{
    public string Directory { get; } = Path.Combine(Path.GetFullPath(storage), "experiments", "definitions");
    public string Description => $"experiment files {Directory}";

    public IReadOnlyList<ExperimentDefinition> Latest(ICollection<string>? problems = null)
    {
        var latest = new List<ExperimentDefinition>();
        foreach (var group in Files().GroupBy(f => f.Id).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            try
            {
                latest.Add(Load(group.MaxBy(f => f.Version).Path));
            }
            catch (InvalidDataException e) when (problems is not null)
            {
                problems.Add($"{group.Key}: {e.Message}");
            }
        }
        return latest;
    }

    public IReadOnlyList<ExperimentDefinition> History(string id) =>
        [.. Files().Where(f => f.Id == id).OrderBy(f => f.Version).Select(f => Load(f.Path))];

    public ExperimentDefinition Save(ExperimentDefinition definition)
    {
        System.IO.Directory.CreateDirectory(Directory);
        int version = Claimed(definition.Id);
        while (true)
        {
            var saved = definition with { Version = ++version };
            string path = PathOf(saved.Id, version);
            // The number is claimed by creating its claim file (O_EXCL: one writer wins); the definition
            // is then written beside it whole (temporary file, rename), so no reader sees half of one.
            try
            {
                using (new FileStream(path + ClaimSuffix, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                {
                }
            }
            catch (IOException) when (File.Exists(path + ClaimSuffix))
            {
                continue;
            }
            DurableFile.WriteAllText(path, ExperimentJson.ToJson(saved).ToJsonString());
            return saved;
        }
    }

    private const string ClaimSuffix = ".claim";

    /// <summary>The highest version number claimed for <paramref name="id"/> (written or being written).</summary>
    private int Claimed(string id) =>
        System.IO.Directory.EnumerateFiles(Directory, "*.json" + ClaimSuffix)
            .Select(p => Parse(Path.GetFileName(p)[..^ClaimSuffix.Length]))
            .Where(f => f.Id == id)
            .Select(f => f.Version)
            .DefaultIfEmpty(0)
            .Max();

    private static (string? Id, int Version) Parse(string fileName)
    {
        string name = Path.GetFileNameWithoutExtension(fileName);
        int dot = name.LastIndexOf(".v", StringComparison.Ordinal);
        return dot > 0 && int.TryParse(name.AsSpan(dot + 2), NumberStyles.None, CultureInfo.InvariantCulture, out int version) ? (name[..dot], version) : (null, 0);
    }

    private string PathOf(string id, int version) => Path.Combine(Directory, $"{id}.v{version.ToString(CultureInfo.InvariantCulture)}.json");

    private static ExperimentDefinition Load(string path)
    {
        try
        {
            return ExperimentJson.Parse(File.ReadAllText(path));
        }
        catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{path}: {e.Message}");
        }
    }

    private IEnumerable<(string Id, int Version, string Path)> Files()
    {
        if (!System.IO.Directory.Exists(Directory)) yield break;
        foreach (string path in System.IO.Directory.EnumerateFiles(Directory, "*.json"))
        {
            var (id, version) = Parse(Path.GetFileName(path));
            if (id is not null) yield return (id, version, path);
        }
    }
}
