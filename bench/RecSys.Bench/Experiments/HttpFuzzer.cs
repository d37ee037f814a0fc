using System.Net.Sockets;
using System.Text;
using RecSys.Engine.Data;

namespace RecSys.Bench.Experiments;

/// <summary>
/// Mutated HTTP/1.1 requests (request line, headers, query, body) sent through raw sockets to a running
/// server: each must get a status line that is not a 500, or a closed connection, within
/// <see cref="CaseTimeout"/>; afterwards the server must still answer <c>/health</c>.
/// </summary>
public static class HttpFuzzer
{
    public static readonly TimeSpan CaseTimeout = TimeSpan.FromSeconds(10);

    private static readonly string[] Seeds =
    [
        "GET /recommend/user/1/ml?limit=5 HTTP/1.1\r\nHost: fuzz\r\n\r\n",
        "GET /recommend/similar/10?limit=3 HTTP/1.1\r\nHost: fuzz\r\nAccept: application/json\r\n\r\n",
        "HEAD /health HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n\r\n",
        "GET /recommend/user/7?limit=2 HTTP/1.1\r\nHost: fuzz\r\nAuthorization: Bearer x\r\n\r\n",
        "GET /users/3/plays?limit=5&offset=2 HTTP/1.1\r\nHost: fuzz\r\n\r\n",
        "GET /console/app.js HTTP/1.1\r\nHost: fuzz\r\nIf-None-Match: \"abc\"\r\n\r\n",
        "POST /admin/models/20260101T000000000Z/promote HTTP/1.1\r\nHost: fuzz\r\nAuthorization: Bearer x\r\nContent-Length: 0\r\n\r\n",
        Post("""[{"event_id":"f-1","user_id":1,"track_id":2,"milestone":100,"is_completed":true}]"""),
    ];

    private static string Post(string body) =>
        $"POST /events/plays HTTP/1.1\r\nHost: fuzz\r\nContent-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n{body}";

    public static async Task<Fuzzer.Report> RunAsync(Uri server, int cases, ulong seed)
    {
        int accepted = 0, refused = 0;
        var failures = new List<string>();
        for (int n = 0; n < cases; n++)
        {
            var rng = new SplitMix(seed, (ulong)n);
            byte[] request = Fuzzer.Mutate(Encoding.ASCII.GetBytes(Seeds[rng.NextInt(Seeds.Length)]), ref rng);
            using var timeout = new CancellationTokenSource(CaseTimeout);
            int? status;
            try
            {
                status = await SendAsync(server, request, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                failures.Add($"case {n}: no answer within {CaseTimeout.TotalSeconds} s (a hang)");
                continue;
            }
            // 500 is an unhandled fault; Kestrel's 505 (a mangled version) and a 503 are answers.
            if (status == 500) failures.Add($"case {n}: {status} for {Printable(request)}");
            else if (status is >= 200 and < 400) accepted++;
            else refused++;
        }
        using (var health = new CancellationTokenSource(CaseTimeout))
        {
            // A whole request, the connection left open for the answer: a half-closed one may be taken
            // for a client that left, whose answer Kestrel then need not write (the probe failed one run in three).
            int? status = await SendAsync(server, Encoding.ASCII.GetBytes("GET /health HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n\r\n"), health.Token, halfClose: false);
            if (status != 200) failures.Add($"after the fuzzing /health answered {status?.ToString() ?? "nothing"}");
        }
        return new Fuzzer.Report("http", cases, accepted, refused, failures);
    }

    /// <summary>
    /// Sends the bytes, closes the sending side (so a truncated request cannot wait for more), and reads
    /// the first status line (null: closed without one).
    /// </summary>
    private static async Task<int?> SendAsync(Uri server, byte[] request, CancellationToken ct, bool halfClose = true)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port, ct);
        var stream = client.GetStream();
        try
        {
            await stream.WriteAsync(request, ct);
            if (halfClose) client.Client.Shutdown(SocketShutdown.Send);
        }
        catch (IOException)
        {
            // The server may close a connection as soon as it has seen enough to refuse it.
        }
        var buffer = new byte[256];
        int read = 0;
        try
        {
            while (read < buffer.Length)
            {
                int n = await stream.ReadAsync(buffer.AsMemory(read), ct);
                if (n == 0) break;
                read += n;
                if (Array.IndexOf(buffer, (byte)'\n', 0, read) >= 0) break;
            }
        }
        catch (IOException)
        {
        }
        string line = Encoding.ASCII.GetString(buffer, 0, read);
        return line.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) && line.Length >= 12 && int.TryParse(line.AsSpan(9, 3), out int status) ? status : null;
    }

    private static string Printable(byte[] request)
    {
        var text = Encoding.ASCII.GetString(request, 0, Math.Min(request.Length, 160));
        return new string([.. text.Select(c => c is >= ' ' and < (char)127 ? c : '·')]);
    }
}
