using System.Runtime.InteropServices;
using System.Text;

namespace RecSys.Engine.IO;

/// <summary>
/// Files that must survive a power loss whole (a store's current pointer, manifests, index and list
/// files beside a model): written
/// to a temporary file, flushed to disk, renamed over the target, and the folder flushed too, so the
/// rename itself is on disk. Without the last step a power loss can leave the old name, or an empty
/// file, after the process believed the write done.
/// </summary>
public static partial class DurableFile
{
    public static void WriteAllText(string path, string text) => WriteAllBytes(path, Encoding.UTF8.GetBytes(text));

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        string temp = StaleTempFiles.For(full);
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                file.Write(bytes);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
            FlushDirectory(directory);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Flushes a folder's entries (renames, new files) to disk; a no-op where the system has no such call.</summary>
    public static void FlushDirectory(string directory)
    {
        if (!(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())) return;
        int fd = Open(directory, 0 /* O_RDONLY */);
        if (fd < 0) return;
        try
        {
            _ = Fsync(fd);
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync")]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
