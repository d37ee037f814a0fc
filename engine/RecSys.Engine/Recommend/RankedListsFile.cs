using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using RecSys.Engine.Ann;
using RecSys.Engine.Model;

namespace RecSys.Engine.Recommend;

/// <summary>
/// The file of a model's precomputed lists: magic, format version, kind, rows, length, the model
/// fingerprint they were computed from, counts, indices, scores, and an XxHash3 checksum of everything
/// before it. Every field is checked on load (a list that passed the checksum but points past the
/// catalog, names an item twice or a track as similar to itself, or is not ranked best first, is
/// refused), like the HNSW index files.
/// </summary>
public static class RankedListsFile
{
    public const int FormatVersion = 1;
    private static readonly byte[] Magic = "RSLIST\r\n"u8.ToArray();
    private const int HeaderBytes = 8 + 4 + 4 + 4 + 4 + 8;

    /// <summary>
    /// XxHash3 of what a kind of list is computed from: item factors, for personal lists user factors and
    /// heard tracks too, and the retrievers' signature (their kind and every retrieval setting).
    /// </summary>
    public static ulong Fingerprint(RecModel model, RankedListKind kind, string retrievalSignature)
    {
        var hash = new XxHash3();
        hash.Append(System.Text.Encoding.UTF8.GetBytes(retrievalSignature));
        hash.Append(MemoryMarshal.AsBytes(model.ItemFactors.AsSpan()));
        Span<byte> shape = stackalloc byte[12];
        BinaryPrimitives.WriteInt32LittleEndian(shape, model.Factors);
        BinaryPrimitives.WriteInt32LittleEndian(shape[4..], model.ItemCount);
        BinaryPrimitives.WriteInt32LittleEndian(shape[8..], model.UserCount);
        hash.Append(shape);
        if (kind == RankedListKind.Personal)
        {
            hash.Append(MemoryMarshal.AsBytes(model.UserFactors.AsSpan()));
            if (model.UserItems is { } heard)
            {
                hash.Append(MemoryMarshal.AsBytes(heard.RowPtr.AsSpan()));
                hash.Append(MemoryMarshal.AsBytes(heard.ColIndices.AsSpan()));
            }
        }
        return hash.GetCurrentHashAsUInt64();
    }

    /// <summary>Writes the lists atomically (<see cref="IO.DurableFile"/>).</summary>
    public static void Save(string path, RankedLists lists, RankedListKind kind, ulong fingerprint)
    {
        long total = HeaderBytes + 4L * lists.Rows + 8L * lists.Rows * lists.Length + 8;
        if (total > Array.MaxLength) throw new IOException($"{path}: {total} bytes is more than one file buffer holds");
        var buffer = new byte[total];
        var span = buffer.AsSpan();
        Magic.CopyTo(span);
        int o = 8;
        BinaryPrimitives.WriteInt32LittleEndian(span[o..], FormatVersion); o += 4;
        BinaryPrimitives.WriteInt32LittleEndian(span[o..], (int)kind); o += 4;
        BinaryPrimitives.WriteInt32LittleEndian(span[o..], lists.Rows); o += 4;
        BinaryPrimitives.WriteInt32LittleEndian(span[o..], lists.Length); o += 4;
        BinaryPrimitives.WriteUInt64LittleEndian(span[o..], fingerprint); o += 8;
        o += Copy(MemoryMarshal.AsBytes(lists.Counts), span[o..]);
        o += Copy(MemoryMarshal.AsBytes(lists.Indices), span[o..]);
        o += Copy(MemoryMarshal.AsBytes(lists.Scores), span[o..]);
        BinaryPrimitives.WriteUInt64LittleEndian(span[o..], XxHash3.HashToUInt64(span[..o]));

        IO.DurableFile.WriteAllBytes(path, buffer);
    }

    /// <summary>
    /// Loads lists saved for exactly this kind, shape, length and fingerprint; throws
    /// <see cref="IndexFormatException"/> naming the reason otherwise (the caller then recomputes).
    /// </summary>
    public static RankedLists Load(string path, RankedListKind kind, int rows, int length, int items, ulong fingerprint)
    {
        long expected = HeaderBytes + 4L * rows + 8L * rows * length + 8;
        var info = new FileInfo(path);
        if (!info.Exists) throw new IndexFormatException($"{path}: no list file");
        // The size first: a file of the wrong size is not read (nor one past what an array holds).
        if (info.Length != expected) throw new IndexFormatException($"{path}: {info.Length} bytes, {expected} expected for {rows} lists of {length} (stale or truncated)");
        ReadOnlySpan<byte> span = File.ReadAllBytes(path);
        if (span.Length < HeaderBytes + 8 || !span[..8].SequenceEqual(Magic)) throw new IndexFormatException($"{path}: not a RecSys list file (bad magic)");
        if (XxHash3.HashToUInt64(span[..^8]) != BinaryPrimitives.ReadUInt64LittleEndian(span[^8..])) throw new IndexFormatException($"{path}: checksum mismatch (corrupt or truncated)");
        int version = BinaryPrimitives.ReadInt32LittleEndian(span[8..]);
        if (version != FormatVersion) throw new IndexFormatException($"{path}: format version {version}, this build reads {FormatVersion}");
        var fileKind = (RankedListKind)BinaryPrimitives.ReadInt32LittleEndian(span[12..]);
        int fileRows = BinaryPrimitives.ReadInt32LittleEndian(span[16..]);
        int fileLength = BinaryPrimitives.ReadInt32LittleEndian(span[20..]);
        ulong fileFingerprint = BinaryPrimitives.ReadUInt64LittleEndian(span[24..]);
        if (fileKind != kind) throw new IndexFormatException($"{path}: holds {fileKind} lists, wanted {kind}");
        if (fileRows != rows || fileLength != length) throw new IndexFormatException($"{path}: {fileRows} lists of {fileLength}, wanted {rows} of {length} (stale)");
        if (fileFingerprint != fingerprint) throw new IndexFormatException($"{path}: computed from another model or with other retrieval settings (stale)");

        long entries = (long)rows * length;
        int o = HeaderBytes;
        var counts = MemoryMarshal.Cast<byte, int>(span.Slice(o, checked(4 * rows))).ToArray();
        o += 4 * rows;
        var indices = MemoryMarshal.Cast<byte, int>(span.Slice(o, checked((int)(4 * entries)))).ToArray();
        o += (int)(4 * entries);
        var scores = MemoryMarshal.Cast<byte, float>(span.Slice(o, checked((int)(4 * entries)))).ToArray();
        Span<int> seen = new int[length];
        for (int row = 0; row < rows; row++)
        {
            if ((uint)counts[row] > (uint)length) throw new IndexFormatException($"{path}: list {row} has {counts[row]} entries (at most {length})");
            long at = (long)row * length;
            for (int i = 0; i < counts[row]; i++)
            {
                int index = indices[at + i];
                float score = scores[at + i];
                if ((uint)index >= (uint)items) throw new IndexFormatException($"{path}: list {row} names item {index} of {items}");
                if (kind == RankedListKind.Similar && index == row) throw new IndexFormatException($"{path}: list {row} names its own track");
                if (!float.IsFinite(score)) throw new IndexFormatException($"{path}: list {row} has score {score}");
                if (i > 0 && score > scores[at + i - 1]) throw new IndexFormatException($"{path}: list {row} is not ranked best first at entry {i}");
            }
            var sorted = seen[..counts[row]];
            indices.AsSpan((int)at, counts[row]).CopyTo(sorted);
            sorted.Sort();
            for (int i = 1; i < sorted.Length; i++)
            {
                if (sorted[i] == sorted[i - 1]) throw new IndexFormatException($"{path}: list {row} names item {sorted[i]} twice");
            }
        }
        return new RankedLists(length, indices, scores, counts);
    }

    private static int Copy(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        source.CopyTo(destination);
        return source.Length;
    }
}
