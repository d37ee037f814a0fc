using System.Diagnostics;

namespace RecSys.Engine.IO;

/// <summary>
/// Files written first under a temporary name carry their writer's process id and a GUID
/// (<c>{target}.{pid}.{guid}.tmp</c>; version folders <c>{version}.{pid}.partial</c>). A writer killed
/// mid-write (kill -9, a power loss) leaves them behind; this deletes those whose writer is gone.
/// Gone means: no process with that id runs (or it is this process, when the caller knows it has
/// written nothing yet: a start-up, where a container's server is pid 1 again), and nothing in it
/// changed for <see cref="Quiet"/> (a writer in another pid namespace sharing the folder looks dead
/// by its id, but is still writing).
/// </summary>
public static class StaleTempFiles
{
    /// <summary>How long a temporary file must have been left unchanged before it counts as abandoned.</summary>
    public static readonly TimeSpan Quiet = TimeSpan.FromSeconds(60);

    /// <summary>The temporary name of <paramref name="path"/> for this process (<c>{path}.{pid}.{guid}.tmp</c>).</summary>
    public static string For(string path) => $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";

    /// <summary>
    /// Deletes the abandoned temporary files and folders in <paramref name="directory"/> whose name starts
    /// with <paramref name="prefix"/> (a folder RecSys owns passes ""; a folder a user chose passes the
    /// target's own prefix, so nobody else's files are touched); returns the names deleted.
    /// </summary>
    public static List<string> Remove(string directory, string prefix = "", bool ownProcessIsNew = false)
    {
        var removed = new List<string>();
        if (!Directory.Exists(directory)) return removed;
        var now = DateTime.UtcNow;
        foreach (string path in Directory.EnumerateFileSystemEntries(directory))
        {
            string name = Path.GetFileName(path);
            if (!name.StartsWith(prefix, StringComparison.Ordinal) || WriterOf(name) is not { } pid) continue;
            bool running = pid == Environment.ProcessId ? !ownProcessIsNew : IsRunning(pid);
            if (running || now - LastChange(path) < Quiet) continue;
            try
            {
                if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
                else File.Delete(path);
                removed.Add(name);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Gone already, or not ours to delete: leave it.
            }
        }
        return removed;
    }

    /// <summary>
    /// The process id in a temporary name (<c>….{pid}.{32 hex}.tmp</c>, <c>….{pid}.tmp</c> as earlier
    /// builds wrote them, <c>….{pid}.partial</c>), or null when the name is not one.
    /// </summary>
    public static int? WriterOf(string name)
    {
        string[] parts;
        if (name.EndsWith(".tmp", StringComparison.Ordinal)) parts = name[..^4].Split('.');
        else if (name.EndsWith(".partial", StringComparison.Ordinal)) parts = name[..^8].Split('.');
        else return null;
        if (parts.Length < 2) return null;
        string last = parts[^1];
        bool guid = last.Length == 32 && last.All(Uri.IsHexDigit);
        string pid = guid && parts.Length >= 3 ? parts[^2] : last;
        return int.TryParse(pid, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int id) && id > 0 ? id : null;
    }

    private static DateTime LastChange(string path)
    {
        if (!Directory.Exists(path)) return File.GetLastWriteTimeUtc(path);
        var latest = Directory.GetLastWriteTimeUtc(path);
        foreach (string entry in Directory.EnumerateFileSystemEntries(path, "*", SearchOption.AllDirectories))
        {
            var changed = File.GetLastWriteTimeUtc(entry);
            if (changed > latest) latest = changed;
        }
        return latest;
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }
}
