using System.Buffers.Binary;
using System.Text;

namespace RecSys.Engine.Experiments;

/// <summary>
/// The embedded exposure store: <c>&lt;storage&gt;/experiments/exposures.log</c>, records of
/// <c>[length u32][CRC-32C u32][payload]</c> appended and fsynced per batch. A torn tail (a crash during
/// a write) is cut at open and kept aside; readers stop at the first incomplete record, so they may run
/// while the server appends.
/// </summary>
public sealed class ExposureLog : IExposureStore
{
    public const string FileName = "exposures.log";
    private static readonly byte[] Magic = "RSEXPO01"u8.ToArray();
    private const int RecordHeader = 8;
    private const int MaxPayload = 16 + 8 + 8 + 2 * 65 + 2 + Exposure.MaxTracks * 12;

    private readonly FileStream _file;
    private readonly object _write = new();

    public string Path { get; }
    public string Description => $"exposure log {Path}";

    /// <summary>Bytes cut from a torn tail at open (0 when the log was whole).</summary>
    public long CutBytes { get; }

    private ExposureLog(string path, FileStream file, long cut)
    {
        Path = path;
        _file = file;
        CutBytes = cut;
    }

    public static string PathIn(string storage) => System.IO.Path.Combine(storage, "experiments", FileName);

    public static ExposureLog Open(string storage)
    {
        string path = PathIn(storage);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 1, FileOptions.None);
        try
        {
            if (file.Length < Magic.Length && IsHeaderPrefix(file))
            {
                // New, or a crash while its header was written.
                file.SetLength(0);
                file.Write(Magic);
                file.Flush(flushToDisk: true);
            }
            long end = Magic.Length;
            file.Position = 0;
            var head = new byte[Magic.Length];
            if (file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) != head.Length || !head.AsSpan().SequenceEqual(Magic))
            {
                throw new InvalidDataException($"{path} is not a RecSys exposure log (no RSEXPO01 header); move it away to start a new one");
            }
            using (var scan = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16))
            {
                foreach (var (_, at) in Scan(scan)) end = at;
            }
            long cut = file.Length - end;
            // What follows the last whole record is a torn last batch, or damage: kept aside, nothing is lost for good.
            if (cut > 0) IO.TornTail.SaveAndCut(file, path, end);
            file.Position = end;
            return new ExposureLog(path, file, cut);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static bool IsHeaderPrefix(FileStream file)
    {
        var head = new byte[file.Length];
        file.Position = 0;
        file.ReadExactly(head);
        return Magic.AsSpan().StartsWith(head);
    }

    public void Append(IReadOnlyList<Exposure> batch)
    {
        if (batch.Count == 0) return;
        var buffer = new MemoryStream();
        var payload = new byte[MaxPayload];
        Span<byte> header = stackalloc byte[RecordHeader];
        foreach (var exposure in batch)
        {
            int length = Encode(exposure, payload);
            BinaryPrimitives.WriteInt32LittleEndian(header, length);
            BinaryPrimitives.WriteUInt32LittleEndian(header[4..], IO.Crc32C.Compute(payload.AsSpan(0, length)));
            buffer.Write(header);
            buffer.Write(payload, 0, length);
        }
        lock (_write)
        {
            long at = _file.Position;
            try
            {
                _file.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
                _file.Flush(flushToDisk: true);
            }
            catch
            {
                // A failed write must not leave half a batch for the next one to follow (and the next
                // write goes where this one began, even if the cut fails too).
                _file.Position = at;
                try
                {
                    _file.SetLength(at);
                }
                catch (IOException)
                {
                }
                throw;
            }
        }
    }

    private static int Encode(Exposure e, Span<byte> into)
    {
        int n = Math.Min(e.Tracks.Length, Exposure.MaxTracks);
        e.RecommendationId.TryWriteBytes(into);
        int at = 16;
        BinaryPrimitives.WriteInt64LittleEndian(into[at..], e.UserId);
        BinaryPrimitives.WriteInt64LittleEndian(into[(at + 8)..], e.ShownAtUtc.Ticks);
        at += 16;
        at += WriteName(e.Experiment, into[at..]);
        at += WriteName(e.Arm, into[at..]);
        BinaryPrimitives.WriteUInt16LittleEndian(into[at..], (ushort)n);
        at += 2;
        for (int i = 0; i < n; i++, at += 12)
        {
            BinaryPrimitives.WriteInt64LittleEndian(into[at..], e.Tracks[i]);
            BinaryPrimitives.WriteInt32LittleEndian(into[(at + 8)..], i < e.DurationsMs.Length ? e.DurationsMs[i] : 0);
        }
        return at;
    }

    private static int WriteName(string name, Span<byte> into)
    {
        int length = Encoding.UTF8.GetBytes(name, into[1..65]);
        into[0] = (byte)length;
        return 1 + length;
    }

    public IEnumerable<Exposure> Read(string experiment) => ReadFile(Path).Where(e => e.Experiment == experiment);

    /// <summary>The log's exposures up to its first incomplete record, without opening it for writing (a report beside a running server).</summary>
    public static IEnumerable<Exposure> ReadFile(string path)
    {
        if (!File.Exists(path)) yield break;
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
        foreach (var (exposure, _) in Scan(file)) yield return exposure;
    }

    private static IEnumerable<(Exposure Exposure, long At)> Scan(FileStream file)
    {
        var header = new byte[RecordHeader];
        var payload = new byte[MaxPayload];
        var head = new byte[Magic.Length];
        file.Position = 0;
        if (file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) != head.Length || !head.AsSpan().SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{file.Name} is not a RecSys exposure log (no RSEXPO01 header)");
        }
        long at = Magic.Length;
        while (file.ReadAtLeast(header, RecordHeader, throwOnEndOfStream: false) == RecordHeader)
        {
            int length = BinaryPrimitives.ReadInt32LittleEndian(header);
            if (length is < 16 + 16 + 2 + 2 or > MaxPayload) yield break;
            if (file.ReadAtLeast(payload.AsMemory(0, length).Span, length, throwOnEndOfStream: false) < length) yield break;
            var body = payload.AsSpan(0, length);
            if (IO.Crc32C.Compute(body) != BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(4))) yield break;
            if (Decode(body) is not { } exposure) yield break;
            at += RecordHeader + length;
            yield return (exposure, at);
        }
    }

    private static Exposure? Decode(ReadOnlySpan<byte> body)
    {
        var id = new Guid(body[..16]);
        long user = BinaryPrimitives.ReadInt64LittleEndian(body[16..]);
        long ticks = BinaryPrimitives.ReadInt64LittleEndian(body[24..]);
        int at = 32;
        string experiment = ReadName(body, ref at), arm = ReadName(body, ref at);
        int n = BinaryPrimitives.ReadUInt16LittleEndian(body[at..]);
        at += 2;
        if (at + n * 12 != body.Length || ticks is < 0 or > 3155378975999999999) return null;
        var tracks = new long[n];
        var durations = new int[n];
        for (int i = 0; i < n; i++, at += 12)
        {
            tracks[i] = BinaryPrimitives.ReadInt64LittleEndian(body[at..]);
            durations[i] = BinaryPrimitives.ReadInt32LittleEndian(body[(at + 8)..]);
        }
        return new Exposure(id, experiment, arm, user, new DateTime(ticks, DateTimeKind.Utc), tracks, durations);
    }

    private static string ReadName(ReadOnlySpan<byte> body, ref int at)
    {
        int length = body[at];
        string name = Encoding.UTF8.GetString(body.Slice(at + 1, length));
        at += 1 + length;
        return name;
    }

    public void Dispose() => _file.Dispose();
}
