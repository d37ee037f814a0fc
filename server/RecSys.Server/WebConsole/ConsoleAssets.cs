using System.Reflection;
using System.Security.Cryptography;

namespace RecSys.Server.WebConsole;

/// <summary>One file of the console, read from the executable once: its bytes, media type and validator.</summary>
internal sealed record ConsoleAsset(string Name, byte[] Content, string ContentType, string ETag);

/// <summary>
/// The console's files, embedded in the executable (no files beside it to lose, no CDN, no build step at
/// run time), loaded once when the server starts.
/// </summary>
internal static class ConsoleAssets
{
    private const string Prefix = "console/";

    private static readonly Dictionary<string, string> MediaTypes = new(StringComparer.Ordinal)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
        [".txt"] = "text/plain; charset=utf-8",
    };

    public static IReadOnlyDictionary<string, ConsoleAsset> Load()
    {
        var assembly = typeof(ConsoleAssets).Assembly;
        var assets = new Dictionary<string, ConsoleAsset>(StringComparer.Ordinal);
        foreach (string resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(Prefix, StringComparison.Ordinal)) continue;
            string name = resource[Prefix.Length..];
            byte[] content = Read(assembly, resource);
            string type = MediaTypes.GetValueOrDefault(Path.GetExtension(name))
                ?? throw new InvalidOperationException($"console asset {name} has no known media type");
            string etag = $"\"{Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 12))}\"";
            assets[name] = new ConsoleAsset(name, content, type, etag);
        }
        if (!assets.ContainsKey("index.html")) throw new InvalidOperationException("the console's index.html is not embedded in the executable");
        return assets;
    }

    private static byte[] Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
