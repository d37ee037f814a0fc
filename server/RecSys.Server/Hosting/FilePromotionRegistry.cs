using RecSys.Engine.IO;

namespace RecSys.Server.Hosting;

/// <summary>
/// The one-node registry: a <c>current</c> file and a <c>history</c> file (a version a line) in the
/// store's root, each written whole or not at all. Writers in one process are serialised by the store.
/// </summary>
public sealed class FilePromotionRegistry(string root) : IPromotionRegistry
{
    private string CurrentFile => Path.Combine(root, "current");
    private string HistoryFile => Path.Combine(root, "history");

    public string Kind => "files";

    public bool Shared => false;

    public string? Problem => null;

    public PromotionState Read()
    {
        string? current = File.Exists(CurrentFile) ? File.ReadAllText(CurrentFile).Trim() : null;
        var history = File.Exists(HistoryFile)
            ? File.ReadAllLines(HistoryFile).Select(l => l.Trim()).Where(l => l.Length > 0).ToList()
            : [];
        return new PromotionState(string.IsNullOrEmpty(current) ? null : current, history);
    }

    public PromotionState Change(Func<PromotionState, PromotionState?> change, string action)
    {
        var before = Read();
        if (change(before) is not { } after) return before;
        Directory.CreateDirectory(root);
        // History first: a crash between the two writes leaves a history that already names the new
        // current version, which start-up recovery and rollback handle; the other order would not.
        DurableFile.WriteAllText(HistoryFile, string.Join('\n', after.History));
        DurableFile.WriteAllText(CurrentFile, after.Current ?? "");
        return after;
    }

    public void Added(string version, string manifestJson)
    {
        // The manifest is already in the version's folder.
    }
}
