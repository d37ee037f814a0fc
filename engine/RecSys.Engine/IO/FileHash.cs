using System.Security.Cryptography;

namespace RecSys.Engine.IO;

/// <summary>A file's content identity: what imports (model files, play files) are recognised by when they come again.</summary>
public static class FileHash
{
    /// <summary>SHA-256 of the file, lower-case hex.</summary>
    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
