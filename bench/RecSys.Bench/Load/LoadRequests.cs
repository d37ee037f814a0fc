using System.Buffers.Text;
using System.Text;

namespace RecSys.Bench.Load;

/// <summary>The requests a load run sends: the n-th request's bytes, written into a reused buffer (no allocation per request).</summary>
public abstract class LoadRequests
{
    /// <summary>Writes request number <paramref name="n"/> (1, 2, …) into <paramref name="buffer"/> (grown when short); returns its length.</summary>
    public abstract int Write(long n, ref byte[] buffer);

    public static LoadRequests For(string endpoint, Uri url, int ids, int batch) => endpoint switch
    {
        "ml" => new GetRequests(url, "/recommend/user/", "/ml?limit=20", ids),
        "similar" => new GetRequests(url, "/recommend/similar/", "?limit=10", ids),
        "events" => new EventRequests(url, ids, batch),
        _ => throw new ArgumentException($"--endpoint must be ml, similar or events (got '{endpoint}')"),
    };

    /// <summary>The id of request n: walked over 1..ids as bench/load/*.lua walk them.</summary>
    protected static long Id(long n, int ids) => n * 7919 % ids + 1;
}

/// <summary>GET {prefix}{id}{suffix}.</summary>
public sealed class GetRequests(Uri url, string prefix, string suffix, int ids) : LoadRequests
{
    private readonly byte[] _prefix = Encoding.ASCII.GetBytes("GET " + prefix);
    private readonly byte[] _suffix = Encoding.ASCII.GetBytes($"{suffix} HTTP/1.1\r\nHost: {url.Authority}\r\n\r\n");

    public override int Write(long n, ref byte[] buffer)
    {
        var request = buffer.AsSpan();
        _prefix.CopyTo(request);
        Utf8Formatter.TryFormat(Id(n, ids), request[_prefix.Length..], out int digits);
        _suffix.CopyTo(request[(_prefix.Length + digits)..]);
        return _prefix.Length + digits + _suffix.Length;
    }
}

/// <summary>
/// POST /events/plays with <c>batch</c> events a request: new event ids each time (this run's prefix
/// and a counter), users walked over 1..ids, tracks over the demo's 1..50,000, half the plays qualified.
/// </summary>
public sealed class EventRequests(Uri url, int ids, int batch) : LoadRequests
{
    private const int Tracks = 50_000;
    private readonly byte[] _run = Encoding.ASCII.GetBytes(Guid.NewGuid().ToString("N")[..8] + "-");
    private readonly byte[] _head = Encoding.ASCII.GetBytes($"POST /events/plays HTTP/1.1\r\nHost: {url.Authority}\r\nContent-Type: application/json\r\nContent-Length: ");
    private byte[] _body = new byte[4096];
    private long _event;

    public override int Write(long n, ref byte[] buffer)
    {
        int length = 0;
        Append("["u8, ref length);
        for (int i = 0; i < batch; i++)
        {
            long e = ++_event;
            Append(i == 0 ? "{\"event_id\":\""u8 : ",{\"event_id\":\""u8, ref length);
            Append(_run, ref length);
            Number(e, ref length);
            Append("\",\"user_id\":"u8, ref length);
            Number(Id(e, ids), ref length);
            Append(",\"track_id\":"u8, ref length);
            Number(e * 104_729 % Tracks + 1, ref length);
            Append((e & 1) == 0 ? ",\"milestone\":100,\"is_completed\":true}"u8 : ",\"milestone\":30,\"is_completed\":false}"u8, ref length);
        }
        Append("]"u8, ref length);
        int needed = _head.Length + 24 + length;
        if (buffer.Length < needed) Array.Resize(ref buffer, needed * 2);
        var request = buffer.AsSpan();
        _head.CopyTo(request);
        Utf8Formatter.TryFormat(length, request[_head.Length..], out int digits);
        int at = _head.Length + digits;
        "\r\n\r\n"u8.CopyTo(request[at..]);
        at += 4;
        _body.AsSpan(0, length).CopyTo(request[at..]);
        return at + length;
    }

    private void Append(ReadOnlySpan<byte> bytes, ref int length)
    {
        if (length + bytes.Length + 32 > _body.Length) Array.Resize(ref _body, _body.Length * 2);
        bytes.CopyTo(_body.AsSpan(length));
        length += bytes.Length;
    }

    private void Number(long value, ref int length)
    {
        if (length + 32 > _body.Length) Array.Resize(ref _body, _body.Length * 2);
        Utf8Formatter.TryFormat(value, _body.AsSpan(length), out int digits);
        length += digits;
    }
}
