using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using RecSys.Bench.Load;

namespace RecSys.Bench.Soak;

/// <summary>
/// Drives a running server for the soak's duration: mixed traffic on keep-alive connections, reloads and
/// trainings through the admin API, database outages through the given commands, and a sampler. Every
/// answer is classified: what the API promises for the request is fine (a 404 for a track without
/// factors, a 503 for events while the database is stopped), anything else — a transport error, a 5xx,
/// no answer within 10 s — is a failure, kept with its first messages; so is a reload that does not
/// answer 200, a training that neither starts nor is already running, and a fault command that fails.
/// </summary>
public sealed class SoakRun(SoakOptions options)
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);
    private const int KeptFailures = 20;

    private readonly LatencyHistogram _latency = new();
    private readonly Dictionary<string, long> _statuses = [];
    private readonly Dictionary<string, (long Ok, long Failed)> _endpoints = [];
    private readonly List<string> _failures = [];
    private readonly List<SoakSample> _samples = [];
    private readonly List<string> _faults = [];
    private long _requests;
    private long _failed;
    private long _refusedDuringOutage;
    private volatile bool _outage;
    private long _outageEndedAt;

    public LatencyHistogram Latency => _latency;
    public IReadOnlyDictionary<string, long> Statuses => _statuses;
    public IReadOnlyDictionary<string, (long Ok, long Failed)> Endpoints => _endpoints;
    public IReadOnlyList<string> Failures => _failures;
    public IReadOnlyList<SoakSample> Samples => _samples;

    /// <summary>Reloads, trainings and outages as they happened, with what the server answered.</summary>
    public IReadOnlyList<string> Faults => _faults;

    public long Requests => Interlocked.Read(ref _requests);
    public long Failed => Interlocked.Read(ref _failed);
    public long RefusedDuringOutage => Interlocked.Read(ref _refusedDuringOutage);

    public async Task RunAsync()
    {
        using var handler = new SocketsHttpHandler { PooledConnectionLifetime = Timeout.InfiniteTimeSpan, MaxConnectionsPerServer = options.Connections + 2 };
        using var http = new HttpClient(handler) { BaseAddress = options.Url, Timeout = RequestTimeout };
        using var stop = new CancellationTokenSource(options.Duration);
        var clock = Stopwatch.StartNew();
        var tasks = new List<Task>();
        for (int c = 0; c < options.Connections; c++)
        {
            int connection = c;
            tasks.Add(Task.Run(() => TrafficAsync(http, connection, stop.Token)));
        }
        tasks.Add(Task.Run(() => SampleAsync(http, clock, stop.Token)));
        if (options.AdminToken is not null)
        {
            tasks.Add(Task.Run(() => EveryAsync(options.ReloadEvery, () => AdminAsync(http, "/admin/reload", clock), stop.Token)));
            tasks.Add(Task.Run(() => EveryAsync(options.TrainEvery, () => AdminAsync(http, "/admin/train", clock), stop.Token)));
        }
        if (options.DbStop is not null && options.DbStart is not null)
        {
            tasks.Add(Task.Run(() => EveryAsync(options.OutageEvery, () => OutageAsync(clock, stop.Token), stop.Token)));
        }
        await Task.WhenAll(tasks);
        // An outage cut short by the end of the run must not leave the database stopped.
        if (_outage) await ShellAsync(options.DbStart!);
        await SampleOnceAsync(http, clock);
    }

    /// <summary>The mix: 45 % /ml, 40 % /similar, 5 % the legacy list, 10 % play events (when on; /ml otherwise).</summary>
    private async Task TrafficAsync(HttpClient http, int connection, CancellationToken stop)
    {
        long n = connection;
        string run = Guid.NewGuid().ToString("N")[..8];
        while (!stop.IsCancellationRequested)
        {
            n += options.Connections;
            long id = n * 7919 % options.Ids + 1;
            int pick = (int)(n * 31 % 100);
            var (endpoint, request) = pick switch
            {
                < 45 => ("ml", Get($"/recommend/user/{id}/ml?limit=20")),
                < 85 => ("similar", Get($"/recommend/similar/{id * 5}?limit=10")),
                < 90 => ("legacy", Get($"/recommend/user/{id}?limit=20")),
                _ when options.Events => ("events", Events(run, n, id)),
                _ => ("ml", Get($"/recommend/user/{id}/ml?limit=20")),
            };
            long started = Stopwatch.GetTimestamp();
            string status;
            string? failure = null;
            try
            {
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, CancellationToken.None);
                status = ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
                string body = await response.Content.ReadAsStringAsync(CancellationToken.None);
                failure = Judge(endpoint, response.StatusCode, body) ? null : $"{endpoint} {request.RequestUri}: {status} {Truncate(body)}";
            }
            catch (Exception e)
            {
                // Whatever went wrong is this request's failure, kept with its message; the run goes on.
                status = e is TaskCanceledException ? "timeout" : "transport";
                failure = $"{endpoint} {request.RequestUri}: {e.GetType().Name}: {e.Message}";
            }
            finally
            {
                request.Dispose();
            }
            Record(endpoint, status, failure, (Stopwatch.GetTimestamp() - started) * 1_000_000 / Stopwatch.Frequency);
        }
    }

    private static HttpRequestMessage Get(string path) => new(HttpMethod.Get, path);

    private static HttpRequestMessage Events(string run, long n, long user)
    {
        var body = new StringBuilder("[");
        for (int i = 0; i < 10; i++)
        {
            if (i > 0) body.Append(',');
            body.Append(CultureInfo.InvariantCulture, $"{{\"event_id\":\"soak-{run}-{n}-{i}\",\"user_id\":{user},\"track_id\":{(n * 104_729 + i) % 50_000 + 1},\"milestone\":100,\"is_completed\":true}}");
        }
        body.Append(']');
        return new HttpRequestMessage(HttpMethod.Post, "/events/plays") { Content = new StringContent(body.ToString(), Encoding.UTF8, "application/json") };
    }

    /// <summary>Whether the answer is one the API promises for this request in the current state.</summary>
    private bool Judge(string endpoint, HttpStatusCode status, string body)
    {
        if (status == HttpStatusCode.OK) return true;
        // A track without factors (no qualified plays) is a correct 404, and says so; any other 404 is not.
        if (endpoint == "similar" && status == HttpStatusCode.NotFound && body.Contains("\"Unknown track\"", StringComparison.Ordinal)) return true;
        if (endpoint == "events" && status == HttpStatusCode.Accepted) return true;
        // The event store is the database: while it is stopped (and for the few seconds the pool takes to
        // notice it is back) events are refused with 503 and Retry-After, as documented.
        bool outage = _outage || Stopwatch.GetElapsedTime(Interlocked.Read(ref _outageEndedAt)) < TimeSpan.FromSeconds(10);
        if (endpoint == "events" && status == HttpStatusCode.ServiceUnavailable && outage)
        {
            Interlocked.Increment(ref _refusedDuringOutage);
            return true;
        }
        return false;
    }

    private void Record(string endpoint, string status, string? failure, long micros)
    {
        Interlocked.Increment(ref _requests);
        lock (_statuses)
        {
            _latency.Record(micros);
            _statuses[status] = _statuses.GetValueOrDefault(status) + 1;
            var (ok, failed) = _endpoints.GetValueOrDefault(endpoint);
            _endpoints[endpoint] = failure is null ? (ok + 1, failed) : (ok, failed + 1);
            if (failure is not null)
            {
                Interlocked.Increment(ref _failed);
                if (_failures.Count < KeptFailures) _failures.Add(failure);
            }
        }
    }

    private static string Truncate(string text) => text.Length <= 200 ? text : text[..200] + "…";

    private static async Task EveryAsync(TimeSpan interval, Func<Task> action, CancellationToken stop)
    {
        try
        {
            while (true)
            {
                await Task.Delay(interval, stop);
                await action();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task AdminAsync(HttpClient http, string path, Stopwatch clock)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", options.AdminToken);
        string outcome;
        bool ok;
        try
        {
            using var response = await http.SendAsync(request);
            outcome = $"{(int)response.StatusCode} {Truncate(await response.Content.ReadAsStringAsync())}";
            // A reload must succeed; a training must start, or find one already running (409).
            ok = response.StatusCode == HttpStatusCode.OK
                || (path.EndsWith("/train", StringComparison.Ordinal) && response.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.Conflict);
        }
        catch (Exception e)
        {
            outcome = $"{e.GetType().Name}: {e.Message}";
            ok = false;
        }
        string line = $"{clock.Elapsed.TotalMinutes:F1} min: POST {path} → {outcome}";
        Fault(line);
        if (!ok) Record("admin", "admin-failed", line, 0);
    }

    private async Task OutageAsync(Stopwatch clock, CancellationToken stop)
    {
        _outage = true;
        Fault($"{clock.Elapsed.TotalMinutes:F1} min: database stopped ({await ShellAsync(options.DbStop!)})");
        try
        {
            await Task.Delay(options.OutageLength, stop);
        }
        catch (OperationCanceledException)
        {
        }
        Fault($"{clock.Elapsed.TotalMinutes:F1} min: database started ({await ShellAsync(options.DbStart!)})");
        Interlocked.Exchange(ref _outageEndedAt, Stopwatch.GetTimestamp());
        _outage = false;
    }

    private void Fault(string line)
    {
        lock (_faults) _faults.Add(line);
        Console.Error.WriteLine("soak: " + line);
    }

    /// <summary>Runs a fault's command; a command that fails is a failure of the run (the fault did not happen as planned).</summary>
    private async Task<string> ShellAsync(string command)
    {
        using var process = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", command]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        // Both streams read to the end, so a chatty command cannot fill a pipe and stall.
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        string result = $"exit {process.ExitCode}";
        if (process.ExitCode != 0) Record("fault", "fault-failed", $"'{command}' {result}: {Truncate(await errors)}{Truncate(await output)}", 0);
        return result;
    }

    private async Task SampleAsync(HttpClient http, Stopwatch clock, CancellationToken stop)
    {
        await SampleOnceAsync(http, clock);
        await EveryAsync(options.SampleEvery, () => SampleOnceAsync(http, clock), stop);
    }

    private async Task SampleOnceAsync(HttpClient http, Stopwatch clock)
    {
        double rss = options.Pid is { } pid ? ResidentMegabytes(pid) : double.NaN;
        double heap = double.NaN;
        long gen2 = -1;
        try
        {
            string metrics = await http.GetStringAsync("/metrics");
            heap = Metric(metrics, "dotnet_total_memory_bytes ") / (1 << 20);
            gen2 = (long)Metric(metrics, "dotnet_collection_count_total{generation=\"2\"} ");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            Fault($"{clock.Elapsed.TotalMinutes:F1} min: /metrics unreadable: {e.Message}");
        }
        var sample = new SoakSample(Math.Round(clock.Elapsed.TotalMinutes, 2), Math.Round(rss, 1), Math.Round(heap, 1), gen2, Requests, Failed);
        lock (_samples) _samples.Add(sample);
    }

    /// <summary>VmRSS of the process, from /proc; NaN where it cannot be read (the process is gone, or not Linux).</summary>
    private static double ResidentMegabytes(int pid)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    return double.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024;
                }
            }
        }
        catch (IOException)
        {
        }
        return double.NaN;
    }

    private static double Metric(string metrics, string prefix)
    {
        foreach (string line in metrics.Split('\n'))
        {
            if (line.StartsWith(prefix, StringComparison.Ordinal)) return double.Parse(line[prefix.Length..], CultureInfo.InvariantCulture);
        }
        return double.NaN;
    }
}
