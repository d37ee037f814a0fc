using System.IO.Compression;
using System.IO.Hashing;

namespace RecSys.Engine.Model;

/// <summary>
/// .npz archives: a zip of .npy entries, as np.savez (stored) and np.savez_compressed (deflate) write them.
/// Reading checks each entry's CRC-32, so a corrupt byte is an error rather than a wrong factor.
/// </summary>
public static class Npz
{
    /// <summary>Reads every entry; keys are entry names without ".npy".</summary>
    public static Dictionary<string, NpyArray> ReadAll(string path)
    {
        if (!File.Exists(path))
        {
            throw new ModelFormatException($"{path}: file not found");
        }
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            using var zip = new ZipArchive(file, ZipArchiveMode.Read);
            var result = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
            foreach (var entry in zip.Entries)
            {
                string name = entry.FullName.EndsWith(".npy", StringComparison.Ordinal) ? entry.FullName[..^4] : entry.FullName;
                using var raw = entry.Open();
                using var checkedStream = new Crc32Stream(raw);
                var array = Npy.Read(checkedStream, name);
                checkedStream.Drain();
                if (checkedStream.Crc != entry.Crc32)
                {
                    throw new ModelFormatException($"{path}: entry '{name}' is corrupt (CRC-32 {checkedStream.Crc:x8}, archive says {entry.Crc32:x8})");
                }
                if (!result.TryAdd(name, array))
                {
                    throw new ModelFormatException($"{path}: entry '{name}' appears twice");
                }
            }
            return result;
        }
        catch (ModelFormatException e) when (!e.Message.StartsWith(path, StringComparison.Ordinal))
        {
            throw new ModelFormatException($"{path}: {e.Message}", e);
        }
        catch (InvalidDataException e)
        {
            throw new ModelFormatException($"{path}: corrupt or truncated zip archive: {e.Message}", e);
        }
        catch (EndOfStreamException e)
        {
            throw new ModelFormatException($"{path}: truncated zip archive: {e.Message}", e);
        }
    }

    /// <summary>Writes entries into a new .npz at <paramref name="stream"/> (uncompressed, like np.savez).</summary>
    public sealed class Writer : IDisposable
    {
        private readonly ZipArchive _zip;
        private readonly CompressionLevel _level;

        public Writer(Stream stream, bool compress = false)
        {
            _zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
            _level = compress ? CompressionLevel.Fastest : CompressionLevel.NoCompression;
        }

        public void Add<T>(string name, ReadOnlySpan<T> data, params ReadOnlySpan<long> shape) where T : unmanaged
        {
            var entry = _zip.CreateEntry(name + ".npy", _level);
            entry.LastWriteTime = new DateTimeOffset(1980, 1, 1, 0, 0, 0, TimeSpan.Zero); // reproducible bytes
            using var s = entry.Open();
            Npy.Write(s, data, shape);
        }

        public void Dispose() => _zip.Dispose();
    }

    /// <summary>Computes CRC-32 of everything read through it.</summary>
    private sealed class Crc32Stream(Stream inner) : Stream
    {
        private readonly Crc32 _crc = new();

        public uint Crc => _crc.GetCurrentHashAsUInt32();

        public void Drain()
        {
            Span<byte> buffer = stackalloc byte[4096];
            while (Read(buffer) > 0) { }
        }

        public override int Read(Span<byte> buffer)
        {
            int n = inner.Read(buffer);
            _crc.Append(buffer[..n]);
            return n;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
