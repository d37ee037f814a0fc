namespace RecSys.Engine.IO;

/// <summary>
/// Cutting an append-only log back to its last whole record without losing what is cut: the bytes after
/// it are copied to <c>&lt;log&gt;.torn-&lt;time&gt;</c> (fsynced) first, then the log is truncated and the
/// folder flushed. Used by the event and exposure logs at open.
/// </summary>
internal static class TornTail
{
    /// <summary>Saves the bytes of <paramref name="file"/> from <paramref name="at"/> aside, truncates there, and returns the saved copy's path.</summary>
    public static string SaveAndCut(FileStream file, string path, long at)
    {
        string saved = $"{path}.torn-{DateTime.UtcNow:yyyyMMddTHHmmssfff}";
        using (var copy = new FileStream(saved, FileMode.CreateNew, FileAccess.Write))
        {
            file.Position = at;
            file.CopyTo(copy);
            copy.Flush(flushToDisk: true);
        }
        file.SetLength(at);
        file.Flush(flushToDisk: true);
        DurableFile.FlushDirectory(Path.GetDirectoryName(path)!);
        return saved;
    }
}
