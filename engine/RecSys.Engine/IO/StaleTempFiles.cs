using System.Diagnostics;

namespace RecSys.Engine.IO;

/// <summary>
/// Files written first under a temporary name carry their writer's process id (<c>….{pid}.tmp</c> or
/// <c>….{pid}.{guid}.tmp</c>, folders <c>….{pid}.partial</c>). A writer killed mid-write (kill -9, a
/// power loss) leaves them behind; this finds those whose process is gone and deletes them. A name
/// whose process id is alive again (reused) is kept: the next clean-up gets it.
/// </summary>
public static class StaleTempFiles
{
    /// <summary>The temporary name of <paramref name="path"/> for this process (<c>{path}.{pid}.{guid}.tmp</c>).</summary>
    public static string For(string path) => $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";

    /// <summary>Deletes this folder's temporary files and folders left by processes that no longer run; returns how many.</summary>
    public static int Remove(string directory)
    {
        if (!Directory.Exists(directory)) return 0;
        int removed = 0;
        foreach (string path in Directory.EnumerateFileSystemEntries(directory))
        {
            string name = Path.GetFileName(path);
            if (WriterOf(name) is not { } pid || IsRunning(pid)) continue;
            try
            {
                if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
                else File.Delete(path);
                removed++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Gone already, or not ours to delete: leave it.
            }
        }
        return removed;
    }

    /// <summary>The process id in a temporary name, or null when the name is not one.</summary>
    public static int? WriterOf(string name)
    {
        string[] parts;
        if (name.EndsWith(".tmp", StringComparison.Ordinal)) parts = name[..^4].Split('.');
        else if (name.EndsWith(".partial", StringComparison.Ordinal)) parts = name[..^8].Split('.');
        else return null;
        if (parts.Length < 2) return null;
        string last = parts[^1];
        string pid = last.Length == 32 && last.All(Uri.IsHexDigit) && parts.Length >= 3 ? parts[^2] : last;
        return int.TryParse(pid, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int id) && id > 0 ? id : null;
    }

    private static bool IsRunning(int pid)
    {
        if (pid == Environment.ProcessId) return true;
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
