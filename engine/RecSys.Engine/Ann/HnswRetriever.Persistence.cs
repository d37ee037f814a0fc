using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace RecSys.Engine.Ann;

/// <summary>
/// The index file: magic, format version, parameters, the hash of the factors it was built from,
/// the graph (levels, level-0 links, upper links), and an XxHash3 checksum of everything before it.
/// Vectors are not stored: they are derived from the model's factors, whose hash must match.
/// </summary>
public sealed partial class HnswRetriever
{
    public const int FormatVersion = 1;
    private static readonly byte[] Magic = "RSHNSW\r\n"u8.ToArray();
    private const int HeaderBytes = 8 + 4 + 4 + 4 * 6 + 8 + 8;

    /// <summary>XxHash3 of the factor bytes plus their shape: what a saved graph is tied to.</summary>
    public static ulong HashFactors(ReadOnlySpan<float> vectors, int dimensions)
    {
        var hash = new XxHash3();
        hash.Append(MemoryMarshal.AsBytes(vectors));
        Span<byte> shape = stackalloc byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(shape, dimensions);
        BinaryPrimitives.WriteInt32LittleEndian(shape[4..], vectors.Length / Math.Max(1, dimensions));
        hash.Append(shape);
        return hash.GetCurrentHashAsUInt64();
    }

    /// <summary>Writes the index atomically (<see cref="IO.DurableFile"/>).</summary>
    public void Save(string path)
    {
        var g = _graph;
        long upperInts = 0;
        for (int i = 0; i < g.Count; i++) upperInts += g.Upper[i]?.Length ?? 0;
        long total = HeaderBytes + 4L * g.Count + 4L * g.Links0.Length + 4 * upperInts + 8;
        if (total > Array.MaxLength) throw new InvalidOperationException("index too large for one file buffer");
        var buffer = new byte[total];
        var span = buffer.AsSpan();
        Magic.CopyTo(span);
        int o = 8;
        BinaryPrimitives.WriteInt32LittleEndian(span[o..], FormatVersion); o += 4;
        span[o++] = (byte)Metric;
        span[o++] = (byte)Mode;
        o += 2;
        foreach (int v in new[] { Dimensions, g.Count, g.M, Options.EfConstruction, g.Entry, g.TopLevel })
        {
            BinaryPrimitives.WriteInt32LittleEndian(span[o..], v);
            o += 4;
        }
        BinaryPrimitives.WriteUInt64LittleEndian(span[o..], Options.Seed); o += 8;
        BinaryPrimitives.WriteUInt64LittleEndian(span[o..], HashFactors(_original, Dimensions)); o += 8;
        o += Copy(g.Levels, span[o..]);
        o += Copy(g.Links0, span[o..]);
        for (int i = 0; i < g.Count; i++)
        {
            if (g.Upper[i] is { } up) o += Copy(up, span[o..]);
        }
        BinaryPrimitives.WriteUInt64LittleEndian(span[o..], XxHash3.HashToUInt64(span[..o]));

        IO.DurableFile.WriteAllBytes(path, buffer);
    }

    /// <summary>
    /// Loads an index saved for exactly these vectors, metric and mode. Throws
    /// <see cref="IndexFormatException"/> naming the reason when the file is corrupt, of another
    /// version, or stale (built from other factors); the caller then rebuilds.
    /// </summary>
    public static HnswRetriever Load(string path, float[] vectors, int dimensions, RetrievalMetric metric, InnerProductMode mode = InnerProductMode.Transform, int? efSearch = null)
    {
        if (!File.Exists(path)) throw new IndexFormatException($"{path}: no index file");
        // Hashing the factors and preparing the search vectors do not depend on the file: run them
        // beside reading and checking it.
        var factorsHash = Task.Run(() => HashFactors(vectors, dimensions));
        var store = Task.Run(() => Prepare(vectors, dimensions, metric, mode));
        try
        {
            return LoadChecked(path, vectors, dimensions, metric, mode, efSearch, factorsHash, store);
        }
        finally
        {
            // Never leave the helpers running past a refusal.
            Task.WaitAll(factorsHash, store);
        }
    }

    private static HnswRetriever LoadChecked(string path, float[] vectors, int dimensions, RetrievalMetric metric, InnerProductMode mode, int? efSearch,
        Task<ulong> currentHash, Task<VectorStore> store)
    {
        byte[] bytes = File.ReadAllBytes(path);
        ReadOnlySpan<byte> span = bytes;
        if (span.Length < HeaderBytes + 8 || !span[..8].SequenceEqual(Magic)) throw new IndexFormatException($"{path}: not a RecSys HNSW index (bad magic)");
        ulong stored = BinaryPrimitives.ReadUInt64LittleEndian(span[^8..]);
        if (XxHash3.HashToUInt64(span[..^8]) != stored) throw new IndexFormatException($"{path}: checksum mismatch (corrupt or truncated)");
        int version = BinaryPrimitives.ReadInt32LittleEndian(span[8..]);
        if (version != FormatVersion) throw new IndexFormatException($"{path}: format version {version}, this build reads {FormatVersion}");
        var fileMetric = (RetrievalMetric)span[12];
        var fileMode = (InnerProductMode)span[13];
        int o = 16;
        Span<int> header = stackalloc int[6];
        for (int h = 0; h < header.Length; h++, o += 4) header[h] = BinaryPrimitives.ReadInt32LittleEndian(span[o..]);
        int dims = header[0], count = header[1], m = header[2], efConstruction = header[3], entry = header[4], topLevel = header[5];
        ulong seed = BinaryPrimitives.ReadUInt64LittleEndian(span[o..]); o += 8;
        ulong savedHash = BinaryPrimitives.ReadUInt64LittleEndian(span[o..]); o += 8;
        if (fileMetric != metric || (metric == RetrievalMetric.InnerProduct && fileMode != mode))
            throw new IndexFormatException($"{path}: built for {fileMetric}/{fileMode}, wanted {metric}/{mode}");
        if (dims != dimensions || count != vectors.Length / dimensions)
            throw new IndexFormatException($"{path}: built for {count} × {dims} vectors, the model has {vectors.Length / dimensions} × {dimensions} (stale)");
        if (savedHash != currentHash.GetAwaiter().GetResult())
            throw new IndexFormatException($"{path}: built from other factors (stale)");
        if (m is < 2 or > 128 || entry < -1 || entry >= Math.Max(count, 1)) throw new IndexFormatException($"{path}: implausible parameters");

        var levels = Read(span, ref o, count, path);
        var links0 = Read(span, ref o, count * (2 * m + 1), path);
        var upper = new int[]?[count];
        for (int i = 0; i < count; i++)
        {
            if (levels[i] is < 0 or > 16) throw new IndexFormatException($"{path}: node {i} has level {levels[i]}");
            if (levels[i] > 0) upper[i] = Read(span, ref o, levels[i] * (m + 1), path);
        }
        if (o != span.Length - 8) throw new IndexFormatException($"{path}: {span.Length - 8 - o} unexpected trailing bytes");
        Validate(links0, upper, levels, count, m, path);

        var options = new HnswOptions { M = m, EfConstruction = Math.Max(1, efConstruction), Seed = seed, EfSearch = efSearch ?? new HnswOptions().EfSearch };
        var graph = HnswGraph.Restore(store.GetAwaiter().GetResult(), m, levels, links0, upper, entry, topLevel);
        return new HnswRetriever(graph, vectors, dimensions, metric, mode, options) { EfSearch = options.EfSearch };
    }

    private static int[] Read(ReadOnlySpan<byte> span, ref int offset, int count, string path)
    {
        long bytes = 4L * count;
        if (count < 0 || offset + bytes > span.Length - 8) throw new IndexFormatException($"{path}: truncated graph");
        var result = MemoryMarshal.Cast<byte, int>(span.Slice(offset, (int)bytes)).ToArray();
        offset += (int)bytes;
        return result;
    }

    /// <summary>Every link count and target in range: a graph that passed the checksum but not this is refused.</summary>
    private static void Validate(int[] links0, int[]?[] upper, int[] levels, int count, int m, string path)
    {
        int stride0 = 2 * m + 1;
        for (int i = 0; i < count; i++)
        {
            CheckList(links0, i * stride0, 2 * m, count, path, i);
            for (int l = 1; l <= levels[i]; l++) CheckList(upper[i]!, (l - 1) * (m + 1), m, count, path, i);
        }
    }

    private static void CheckList(int[] array, int offset, int capacity, int count, string path, int node)
    {
        int n = array[offset];
        if (n < 0 || n > capacity) throw new IndexFormatException($"{path}: node {node} has {n} links (at most {capacity})");
        for (int k = 0; k < n; k++)
        {
            if ((uint)array[offset + 1 + k] >= (uint)count) throw new IndexFormatException($"{path}: node {node} links to {array[offset + 1 + k]}");
        }
    }

    private static int Copy(int[] source, Span<byte> destination)
    {
        MemoryMarshal.AsBytes(source.AsSpan()).CopyTo(destination);
        return source.Length * 4;
    }
}
