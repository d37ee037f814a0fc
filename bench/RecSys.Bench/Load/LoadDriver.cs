using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using RecSys.Bench.Experiments;

namespace RecSys.Bench.Load;

/// <summary>
/// <c>load [--url http://127.0.0.1:8000 [--url …]] [--endpoint ml|similar|events] [--batch 100] [--ids 10000]
/// [--connections 4] [--seconds 8] [--warmup 2] [--rate 0]</c>: a closed-loop HTTP/1.1 load driver with
/// wrk's shape — one thread, keep-alive connections each with one request in flight, ids walked as
/// bench/load/*.lua walk them — that reports every request's latency exactly, both as measured and
/// corrected for coordinated omission the way wrk corrects it, so the two can be told apart
/// (docs/benchmarks.md). <c>events</c> posts batches of <c>--batch</c> play events; <c>--rate</c> caps
/// requests a second (0: as fast as answers come), to hold a background load steady. <c>--url</c> given
/// more than once spreads the connections over the servers in turn, as a load balancer spreads
/// keep-alive connections over replicas.
/// </summary>
public static class LoadDriver
{
    private static readonly double[] Percentiles = [50, 90, 99, 99.9];

    public static int Run(string[] args)
    {
        var urls = UrlArgs(args, "--url", "http://127.0.0.1:8000");
        var options = new LoadOptions(
            urls[0],
            Experiment.Arg(args, "--endpoint") ?? "ml",
            Experiment.PositiveIntArg(args, "--ids", 10_000),
            Experiment.PositiveIntArg(args, "--connections", 4),
            TimeSpan.FromSeconds(SecondsArg(args, "--seconds", 8)),
            TimeSpan.FromSeconds(SecondsArg(args, "--warmup", 2)),
            Experiment.PositiveIntArg(args, "--batch", 100),
            Experiment.Arg(args, "--rate") is null ? 0 : Experiment.PositiveIntArg(args, "--rate", 0)) { Urls = urls };
        LoadReport report;
        try
        {
            report = Measure(options);
        }
        catch (Exception e) when (e is SocketException or InvalidOperationException or FormatException or ArgumentException)
        {
            Console.Error.WriteLine($"error: load against {string.Join(", ", options.Targets)} failed: {e.Message}");
            return 1;
        }
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            url = options.Url.ToString(),
            urls = options.Targets.Count > 1 ? options.Targets.Select(u => u.ToString()).ToArray() : null,
            requests_per_url = options.Targets.Count > 1 ? report.AnswersPerUrl : null,
            endpoint = options.Endpoint,
            batch = options.Endpoint == "events" ? options.Batch : (int?)null,
            events_per_second = options.Endpoint == "events" ? Math.Round(report.RequestsPerSecond * options.Batch) : (double?)null,
            connections = options.Connections,
            seconds = options.Duration.TotalSeconds,
            requests = report.Measured.Count,
            requests_per_second = Math.Round(report.RequestsPerSecond),
            non_2xx = report.Non2xx,
            latency_us = Summary(report.Measured),
            corrected_latency_us = Summary(report.Corrected),
            expected_interval_us = report.ExpectedIntervalMicros,
            driver_allocated_bytes_per_request = Math.Round(report.AllocatedBytes / (double)Math.Max(1, report.Measured.Count), 1),
        }));
        return 0;
    }

    /// <summary>Warms up, then drives the server for the measured duration.</summary>
    public static LoadReport Measure(LoadOptions options)
    {
        if (options.Connections < options.Targets.Count)
        {
            throw new ArgumentException($"--connections ({options.Connections}) must be at least the number of --url ({options.Targets.Count}): each server needs one");
        }
        var run = new ClosedLoop(options.Targets, LoadRequests.For(options.Endpoint, options.Url, options.Ids, options.Batch), options.Connections, options.Rate);
        try
        {
            if (options.Warmup > TimeSpan.Zero) run.Drive(options.Warmup, record: false);
            Result result = run.Drive(options.Duration, record: true);
            // wrk's interval: the mean time between one connection's requests.
            long interval = Math.Max(1, (long)(result.ElapsedMicros / Math.Max(1.0, result.Histogram.Count / (double)options.Connections)));
            return new LoadReport(
                result.Histogram,
                result.Histogram.CorrectedForCoordinatedOmission(interval),
                interval,
                result.Histogram.Count / (result.ElapsedMicros / 1e6),
                result.Non2xx,
                result.AllocatedBytes)
            { AnswersPerUrl = result.AnswersPerUrl };
        }
        finally
        {
            run.Close();
        }
    }

    private static Dictionary<string, long> Summary(LatencyHistogram histogram)
    {
        var summary = Percentiles.ToDictionary(p => "p" + p.ToString(CultureInfo.InvariantCulture), histogram.Percentile);
        summary["max"] = histogram.Max;
        summary["over_limit"] = histogram.Over;
        return summary;
    }

    /// <summary>Every "--url U" in order (the fallback when there is none), each an http:// URL.</summary>
    private static Uri[] UrlArgs(string[] args, string name, string fallback)
    {
        var texts = args.Select((a, i) => (a, i)).Where(p => p.a == name && p.i + 1 < args.Length).Select(p => args[p.i + 1]).DefaultIfEmpty(fallback);
        return [.. texts.Select(text => Uri.TryCreate(text, UriKind.Absolute, out var url) && url.Scheme == Uri.UriSchemeHttp
            ? url : throw new ArgumentException($"{name} must be an http:// URL (got '{text}')"))];
    }

    private static double SecondsArg(string[] args, string name, double fallback)
    {
        string? text = Experiment.Arg(args, name);
        if (text is null) return fallback;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || value < 0 || value > 86_400)
        {
            throw new ArgumentException($"{name} must be a number of seconds between 0 and 86400 (got '{text}')");
        }
        return value;
    }

    public sealed record LoadOptions(Uri Url, string Endpoint, int Ids, int Connections, TimeSpan Duration, TimeSpan Warmup, int Batch = 100, int Rate = 0)
    {
        /// <summary>Every server to drive, connections spread over them in turn (default: <see cref="Url"/> alone).</summary>
        public IReadOnlyList<Uri>? Urls { get; init; }

        public IReadOnlyList<Uri> Targets => Urls is { Count: > 0 } urls ? urls : [Url];
    }

    /// <summary>What a run measured: every answer's latency, and the same corrected as wrk corrects it.</summary>
    public sealed record LoadReport(
        LatencyHistogram Measured, LatencyHistogram Corrected, long ExpectedIntervalMicros, double RequestsPerSecond, long Non2xx, long AllocatedBytes)
    {
        /// <summary>Measured answers from each of <see cref="LoadOptions.Targets"/>, in order.</summary>
        public long[] AnswersPerUrl { get; init; } = [];
    }

    private readonly record struct Result(LatencyHistogram Histogram, long Non2xx, double ElapsedMicros, long AllocatedBytes, long[] AnswersPerUrl);

    /// <summary>One keep-alive connection with its single request in flight.</summary>
    private sealed class Connection(Socket socket, int target)
    {
        public Socket Socket { get; } = socket;

        /// <summary>Which of the servers it is connected to.</summary>
        public int Target { get; } = target;
        public byte[] Received = new byte[64 * 1024];
        public int Filled;
        public long SentAt;
    }

    private sealed class ClosedLoop
    {
        private readonly Connection[] _connections;
        private readonly Dictionary<Socket, Connection> _bySocket = [];
        private readonly List<Socket> _readable;
        private byte[] _request = new byte[512];
        private readonly LoadRequests _requests;
        private readonly int _rate;
        private readonly Queue<Connection> _idle = new();
        private long _counter;
        private long _paceStart;

        private readonly int _targets;

        public ClosedLoop(IReadOnlyList<Uri> urls, LoadRequests requests, int connections, int rate)
        {
            _requests = requests;
            _rate = rate;
            _targets = urls.Count;
            _connections = new Connection[connections];
            _readable = new List<Socket>(connections);
            _paceStart = Stopwatch.GetTimestamp();
            try
            {
                for (int i = 0; i < connections; i++)
                {
                    var url = urls[i % urls.Count];
                    IPAddress address = IPAddress.TryParse(url.Host, out var literal) ? literal : Dns.GetHostAddresses(url.Host)[0];
                    var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                    _connections[i] = new Connection(socket, i % urls.Count);
                    socket.Connect(new IPEndPoint(address, url.Port));
                    socket.Blocking = false;
                    _bySocket[socket] = _connections[i];
                }
                foreach (var connection in _connections) SendOrPark(connection);
            }
            catch
            {
                Close();
                throw;
            }
        }

        /// <summary>Sends the next request, or with a rate set and the run ahead of it, parks the connection until it may.</summary>
        private void SendOrPark(Connection connection)
        {
            if (_rate > 0 && _counter >= (Stopwatch.GetTimestamp() - _paceStart) * (double)_rate / Stopwatch.Frequency)
            {
                _idle.Enqueue(connection);
                return;
            }
            Send(connection);
        }

        public Result Drive(TimeSpan duration, bool record)
        {
            var histogram = new LatencyHistogram();
            long non2xx = 0;
            var perTarget = new long[_targets];
            long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            long start = Stopwatch.GetTimestamp();
            long end = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
            long now = start;
            while (now < end)
            {
                for (int parked = _idle.Count; parked > 0; parked--) SendOrPark(_idle.Dequeue());
                _readable.Clear();
                foreach (var connection in _connections)
                {
                    if (!_idle.Contains(connection)) _readable.Add(connection.Socket);
                }
                if (_readable.Count == 0)
                {
                    Thread.Sleep(1);
                    now = Stopwatch.GetTimestamp();
                    continue;
                }
                Socket.Select(_readable, null, null, _idle.Count > 0 ? 1000 : 100_000);
                foreach (var socket in _readable)
                {
                    Connection connection = _bySocket[socket];
                    if (!Receive(connection, out int status)) continue;
                    if (record)
                    {
                        long done = Stopwatch.GetTimestamp();
                        histogram.Record((done - connection.SentAt) * 1_000_000 / Stopwatch.Frequency);
                        if (status is < 200 or > 299) non2xx++;
                        perTarget[connection.Target]++;
                    }
                    SendOrPark(connection);
                }
                now = Stopwatch.GetTimestamp();
            }
            double elapsedMicros = (now - start) * 1e6 / Stopwatch.Frequency;
            return new Result(histogram, non2xx, elapsedMicros, GC.GetAllocatedBytesForCurrentThread() - allocatedBefore, perTarget);
        }

        public void Close()
        {
            foreach (var connection in _connections) connection?.Socket.Dispose();
        }

        /// <summary>Reads what arrived; true once the whole response is in (its bytes are then dropped).</summary>
        private static bool Receive(Connection connection, out int status)
        {
            status = 0;
            if (connection.Filled == connection.Received.Length)
            {
                Array.Resize(ref connection.Received, connection.Received.Length * 2);
            }
            int got = connection.Socket.Receive(connection.Received, connection.Filled, connection.Received.Length - connection.Filled, SocketFlags.None, out SocketError error);
            if (error == SocketError.WouldBlock) return false;
            if (error != SocketError.Success) throw new SocketException((int)error);
            if (got == 0) throw new InvalidOperationException("the server closed a keep-alive connection mid-run");
            connection.Filled += got;
            int length = HttpResponseFrame.CompleteLength(connection.Received.AsSpan(0, connection.Filled), out status);
            if (length == 0) return false;
            if (length != connection.Filled)
            {
                throw new InvalidOperationException($"{connection.Filled - length} bytes arrived after a complete response with no request in flight");
            }
            connection.Filled = 0;
            return true;
        }

        private void Send(Connection connection)
        {
            int length = _requests.Write(++_counter, ref _request);
            connection.SentAt = Stopwatch.GetTimestamp();
            int sent = 0;
            while (sent < length)
            {
                int n = connection.Socket.Send(_request, sent, length - sent, SocketFlags.None, out SocketError error);
                if (error == SocketError.WouldBlock)
                {
                    connection.Socket.Poll(1000, SelectMode.SelectWrite);
                    continue;
                }
                if (error != SocketError.Success) throw new InvalidOperationException($"sending a {length}-byte request failed ({error}, {sent} bytes sent)");
                sent += n;
            }
        }
    }
}
