using System.Buffers.Binary;
using System.Text;
using RecSys.Engine.IO;

namespace RecSys.Engine.Events;

/// <summary>
/// The embedded event store: one append-only file of checksummed records, flushed to disk (fsync)
/// before a write returns, so an acknowledged event survives a crash or power loss. A record is
/// <c>[u32 length][u32 CRC-32C of the payload][payload]</c>, the payload
/// <c>[i64 sequence][i64 user][i64 track][i64 played-at ticks, UTC][u8 milestone][u8 completed][u8 id length][id, UTF-8]</c>,
/// all little-endian, after an 8-byte magic and the log's 16-byte id (a new log, a new id: sequence
/// numbers are only comparable within one log). Opening the log checks every record: the first one that
/// is cut short, fails its checksum or breaks the sequence (a write torn by a crash) ends the log; the
/// bytes from there are moved aside to <c>plays.log.torn-*</c> and never read as data. Event ids seen in
/// the last <see cref="DedupWindow"/> events are stored once; training reads de-duplicate the whole log.
/// Not thread-safe for writers: one writer (the server's group commit) appends; readers may run alongside.
/// </summary>
public sealed class EventLog : IPlayEventStore
{
    public const string FileName = "plays.log";
    private static ReadOnlySpan<byte> Magic => "RSPLAY01"u8;
    private const int FileHeader = 8 + 16;
    private const int RecordHeader = 8;
    private const int FixedPayload = 8 * 4 + 3;
    private const int MaxPayload = FixedPayload + PlayEvent.MaxEventIdBytes;

    /// <summary>Most events one <see cref="Store"/> call writes (one write, so the most a crash can tear).</summary>
    public const int MaxEventsPerStore = 65_536;

    private const long MaxTornBytes = (long)MaxEventsPerStore * (RecordHeader + MaxPayload);

    private readonly FileStream _file;
    private readonly DedupWindow _window;
    private long _committedLength;
    private long _lastSequence;
    private byte[] _buffer = new byte[64 * 1024];

    private EventLog(string path, FileStream file, DedupWindow window)
    {
        Path = path;
        _file = file;
        _window = window;
    }

    public string Path { get; }

    /// <summary>The log's own id, written when it was created.</summary>
    public Guid Id { get; private set; }
    public string Description => $"event log {Path}";

    /// <summary>The sequence number of the newest stored event (0 when none).</summary>
    public long LastSequence => Interlocked.Read(ref _lastSequence);

    /// <summary>What opening found: bytes cut from a torn tail and where they were saved.</summary>
    public TornTail? Recovered { get; private set; }

    public sealed record TornTail(long At, long Bytes, string SavedTo, string Reason);

    /// <summary>Opens (or creates) the log in <paramref name="directory"/>, checking every record and cutting a torn tail.</summary>
    public static EventLog Open(string directory, int dedupWindow = 1_000_000)
    {
        Directory.CreateDirectory(directory);
        string path = System.IO.Path.Combine(System.IO.Path.GetFullPath(directory), FileName);
        var writerLock = TakeWriterLock(path);
        bool created = !File.Exists(path);
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 1, FileOptions.None);
        }
        catch
        {
            writerLock.Dispose();
            throw;
        }
        try
        {
            var log = new EventLog(path, file, new DedupWindow(dedupWindow)) { _writerLock = writerLock };
            if (file.Length < FileHeader && IsHeaderPrefix(file))
            {
                // New, or created by a process that died before its header was on disk: nothing was
                // acknowledged from it.
                file.SetLength(0);
                file.Write(Magic);
                file.Write(Guid.NewGuid().ToByteArray());
                file.Flush(flushToDisk: true);
                if (created) DurableFile.FlushDirectory(System.IO.Path.GetDirectoryName(path)!);
            }
            log.Recover();
            return log;
        }
        catch
        {
            file.Dispose();
            writerLock.Dispose();
            throw;
        }
    }

    private FileStream? _writerLock;

    /// <summary>
    /// One writer per log, across processes: a second server on the same storage would read the first
    /// one's record being written as torn and cut it (and what follows). FileShare.None on a separate
    /// file is an exclusive lock there; the log itself stays readable.
    /// </summary>
    private static FileStream TakeWriterLock(string path)
    {
        try
        {
            return new FileStream(path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
        }
        catch (IOException e)
        {
            throw new IOException($"{path} is in use by another process (its lock {path}.lock is held): one server per storage folder", e);
        }
    }

    private static bool IsHeaderPrefix(FileStream file)
    {
        var head = new byte[file.Length];
        file.Position = 0;
        file.ReadExactly(head);
        return Magic.StartsWith(head.AsSpan(0, Math.Min(head.Length, Magic.Length)));
    }

    /// <summary>Scans the log, remembers the newest ids for de-duplication, and cuts what follows the last whole record.</summary>
    private void Recover()
    {
        var header = new byte[FileHeader];
        _file.Position = 0;
        if (_file.ReadAtLeast(header, FileHeader, throwOnEndOfStream: false) != FileHeader || !header.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{Path} is not a RecSys event log (no RSPLAY01 header at its start); move it away to start a new log");
        }
        Id = new Guid(header.AsSpan(Magic.Length, 16));
        long end = FileHeader;
        string? reason = null;
        // A buffered reader of its own: the writer's stream is unbuffered (two reads a record here).
        using var scan = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
        foreach (var (record, at, error) in Scan(scan, FileHeader, _file.Length, 0))
        {
            if (error is not null)
            {
                reason = error;
                end = at;
                break;
            }
            _window.Add(DedupWindow.Hash(record.Event.EventId));
            _lastSequence = record.Sequence;
            end = at;
        }
        if (end < _file.Length)
        {
            // A crash can tear only the last write, at most MaxEventsPerStore records: more bytes past a
            // bad record mean damage inside the log, and cutting there would drop acknowledged events.
            if (_file.Length - end > MaxTornBytes)
            {
                throw new InvalidDataException(
                    $"{Path}: {reason} at offset {end}, with {_file.Length - end} bytes after it — more than one write can leave torn. " +
                    "The log is damaged inside, not at its end; nothing was changed. Copy it aside and inspect it, or move it away to start a new log.");
            }
            CutTail(end, reason ?? "incomplete record");
        }
        _committedLength = end;
        _file.Position = end;
    }

    private void CutTail(long at, string reason)
    {
        long bytes = _file.Length - at;
        string saved = IO.TornTail.SaveAndCut(_file, Path, at);
        Recovered = new TornTail(at, bytes, saved, reason);
    }

    public long[] Store(IReadOnlyList<PlayEvent> events)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (events.Count > MaxEventsPerStore) throw new ArgumentException($"{events.Count} events in one call; at most {MaxEventsPerStore}");
        // A longer id would write a record the next open reads as torn (and cuts with all after it).
        foreach (var e in events)
        {
            int bytes = Encoding.UTF8.GetByteCount(e.EventId);
            if (bytes is 0 or > PlayEvent.MaxEventIdBytes) throw new ArgumentException($"event id '{e.EventId}' has {bytes} bytes of UTF-8; 1..{PlayEvent.MaxEventIdBytes} fit the log");
        }
        var sequences = new long[events.Count];
        var fresh = new List<UInt128>(events.Count);
        var inBatch = new HashSet<UInt128>();
        int length = 0;
        long sequence = _lastSequence;
        for (int i = 0; i < events.Count; i++)
        {
            var id = DedupWindow.Hash(events[i].EventId);
            if (_window.Contains(id) || !inBatch.Add(id)) continue;
            EnsureCapacity(length + RecordHeader + MaxPayload);
            length += Write(_buffer.AsSpan(length), ++sequence, events[i]);
            sequences[i] = sequence;
            fresh.Add(id);
        }
        if (fresh.Count == 0) return sequences;
        try
        {
            _file.Position = _committedLength;
            _file.Write(_buffer, 0, length);
            _file.Flush(flushToDisk: true);
        }
        catch
        {
            // Nothing of a failed write counts: cut what may have reached the file, so the next write
            // starts on a record boundary (if even that fails, the next open cuts it as a torn tail).
            try
            {
                _file.SetLength(_committedLength);
            }
            catch (IOException)
            {
            }
            throw;
        }
        _committedLength += length;
        foreach (var id in fresh) _window.Add(id);
        Interlocked.Exchange(ref _lastSequence, sequence);
        return sequences;
    }

    private void EnsureCapacity(int bytes)
    {
        if (bytes > _buffer.Length) Array.Resize(ref _buffer, Math.Max(bytes, _buffer.Length * 2));
    }

    private static int Write(Span<byte> into, long sequence, in PlayEvent e)
    {
        var payload = into[RecordHeader..];
        BinaryPrimitives.WriteInt64LittleEndian(payload, sequence);
        BinaryPrimitives.WriteInt64LittleEndian(payload[8..], e.UserId);
        BinaryPrimitives.WriteInt64LittleEndian(payload[16..], e.TrackId);
        BinaryPrimitives.WriteInt64LittleEndian(payload[24..], e.PlayedAtUtc.Ticks);
        payload[32] = (byte)e.Milestone;
        payload[33] = e.IsCompleted ? (byte)1 : (byte)0;
        int idLength = Encoding.UTF8.GetBytes(e.EventId, payload[FixedPayload..]);
        payload[34] = (byte)idLength;
        int length = FixedPayload + idLength;
        BinaryPrimitives.WriteUInt32LittleEndian(into, (uint)length);
        BinaryPrimitives.WriteUInt32LittleEndian(into[4..], IO.Crc32C.Compute(payload[..length]));
        return RecordHeader + length;
    }

    /// <summary>A stored event and its sequence number.</summary>
    public readonly record struct Record(long Sequence, PlayEvent Event);

    /// <summary>
    /// The stored events with a sequence number above <paramref name="afterSequence"/>, in order, up to
    /// what was stored when the call began (a reader never sees a record being written).
    /// </summary>
    public IEnumerable<Record> Read(long afterSequence = 0) => ReadUpTo(Interlocked.Read(ref _committedLength), afterSequence);

    /// <summary>
    /// The events of the log in <paramref name="directory"/> without opening it for writing (a report
    /// beside a running server): up to the first record not whole yet, which a writer may be appending.
    /// </summary>
    public static IEnumerable<Record> ReadFile(string directory)
    {
        string path = System.IO.Path.Combine(directory, FileName);
        if (!File.Exists(path)) yield break;
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
        var header = new byte[FileHeader];
        if (file.ReadAtLeast(header, FileHeader, throwOnEndOfStream: false) != FileHeader || !header.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{path} is not a RecSys event log (no RSPLAY01 header at its start)");
        }
        foreach (var (record, _, error) in Scan(file, FileHeader, file.Length, 0))
        {
            if (error is not null) yield break;
            yield return record;
        }
    }

    private IEnumerable<Record> ReadUpTo(long end, long afterSequence)
    {
        using var file = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
        foreach (var (record, _, error) in Scan(file, FileHeader, end, 0))
        {
            if (error is not null) throw new InvalidDataException($"{Path}: {error}, below the length the log had checked");
            if (record.Sequence > afterSequence) yield return record;
        }
    }

    /// <summary>Walks the records in [start, end): each with the offset after it, or the first problem and its offset.</summary>
    private static IEnumerable<(Record Record, long At, string? Error)> Scan(FileStream file, long start, long end, long previousSequence)
    {
        var header = new byte[RecordHeader];
        var payload = new byte[MaxPayload];
        long at = start;
        file.Position = start;
        while (at < end)
        {
            if (end - at < RecordHeader || file.ReadAtLeast(header, RecordHeader, throwOnEndOfStream: false) < RecordHeader)
            {
                yield return (default, at, "record header cut short");
                yield break;
            }
            int length = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(header), int.MaxValue);
            uint crc = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(4));
            if (length is < FixedPayload or > MaxPayload)
            {
                yield return (default, at, $"record length {length} out of range");
                yield break;
            }
            if (end - at - RecordHeader < length || file.ReadAtLeast(payload.AsMemory(0, length).Span, length, throwOnEndOfStream: false) < length)
            {
                yield return (default, at, "record cut short");
                yield break;
            }
            var body = payload.AsSpan(0, length);
            if (IO.Crc32C.Compute(body) != crc)
            {
                yield return (default, at, "record checksum mismatch");
                yield break;
            }
            long sequence = BinaryPrimitives.ReadInt64LittleEndian(body);
            int idLength = body[34];
            if ((previousSequence != 0 && sequence != previousSequence + 1) || sequence <= 0 || FixedPayload + idLength != length)
            {
                yield return (default, at, $"record {sequence} out of sequence after {previousSequence}");
                yield break;
            }
            previousSequence = sequence;
            var e = new PlayEvent(
                Encoding.UTF8.GetString(body.Slice(FixedPayload, idLength)),
                BinaryPrimitives.ReadInt64LittleEndian(body[8..]),
                BinaryPrimitives.ReadInt64LittleEndian(body[16..]),
                body[32],
                body[33] != 0,
                new DateTime(BinaryPrimitives.ReadInt64LittleEndian(body[24..]), DateTimeKind.Utc));
            at += RecordHeader + length;
            yield return (new Record(sequence, e), at, null);
        }
    }


    private bool _disposed;

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _file.Dispose();
        _writerLock?.Dispose();
    }
}
