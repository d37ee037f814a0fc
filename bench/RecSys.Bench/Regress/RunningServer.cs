using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace RecSys.Bench.Regress;

/// <summary>
/// A build's <c>recsys serve</c> on a free loopback port with a store of its own, trained at start-up on
/// the demo catalog (the same seed on both sides), no schedule and no self-tuning; ready once /ready
/// says so. Disposing stops it, and so does this process ending (a timeout's SIGTERM included), so no
/// server outlives the run that started it.
/// </summary>
public sealed class RunningServer : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);
    private const int StartAttempts = 3;
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly EventHandler _stopOnExit;

    private RunningServer(Process process, Uri url, string logPath)
    {
        _process = process;
        Url = url;
        LogPath = logPath;
        _log = new StreamWriter(logPath) { AutoFlush = true };
        _stopOnExit = (_, _) => Stop();
        AppDomain.CurrentDomain.ProcessExit += _stopOnExit;
    }

    public Uri Url { get; }

    /// <summary>What the server printed, kept beside its store.</summary>
    public string LogPath { get; }

    public static RunningServer Start(string build, string folder) => Start(build, folder, store: null);

    /// <summary>
    /// As above, with a store that may be shared (<paramref name="store"/>; default: its own in
    /// <paramref name="folder"/>) and more arguments for <c>recsys serve</c> (a replica's <c>--db</c>).
    /// </summary>
    public static RunningServer Start(string build, string folder, string? store, params string[] extra)
    {
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        Directory.CreateDirectory(folder);
        for (int attempt = 1; ; attempt++)
        {
            // The port is free when chosen but not held, so another process can take it first: the
            // server then fails to bind and exits, and another port is tried.
            var server = Launch(build, folder, FreePort(), store ?? Path.Combine(folder, "store"), extra);
            try
            {
                server.WaitReady(build);
                return server;
            }
            catch (ServerExitedException) when (attempt < StartAttempts)
            {
                server.Dispose();
            }
            catch
            {
                server.Dispose();
                throw;
            }
        }
    }

    private static RunningServer Launch(string build, string folder, int port, string store, string[] extra)
    {
        var start = BenchProcess.StartInfo("dotnet",
            [Path.Combine(build, "recsys.dll"), "serve", "--port", port.ToString(CultureInfo.InvariantCulture), "--storage", store,
             "--schedule", "", "--set", "Tuning:Mode=off", .. extra], folder, null);
        var process = Process.Start(start) ?? throw new InvalidOperationException($"regress: could not start the server of {build}");
        var server = new RunningServer(process, new Uri($"http://127.0.0.1:{port}"), Path.Combine(folder, "server.log"));
        process.OutputDataReceived += (_, e) => server.Log(e.Data);
        process.ErrorDataReceived += (_, e) => server.Log(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    /// <summary>CPU time the server process has used so far (user and system).</summary>
    public TimeSpan CpuTime()
    {
        EnsureRunning();
        _process.Refresh();
        return _process.TotalProcessorTime;
    }

    /// <summary>Throws, naming the log, when the server has died since it started.</summary>
    public void EnsureRunning()
    {
        if (_process.HasExited) throw new ServerExitedException($"regress: the server at {Url} exited with {_process.ExitCode}; its output is in {LogPath}");
    }

    private void Log(string? line)
    {
        if (line is null) return;
        lock (_log) _log.WriteLine(line);
    }

    private void WaitReady(string build)
    {
        using var http = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < StartTimeout)
        {
            EnsureRunning();
            try
            {
                using var response = http.GetAsync("/ready").GetAwaiter().GetResult();
                if (response.StatusCode == HttpStatusCode.OK) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            Thread.Sleep(200);
        }
        throw new TimeoutException($"regress: the server of {build} was not ready within {StartTimeout.TotalMinutes} minutes; its output is in {LogPath}");
    }

    /// <summary>A loopback port free now (not held: another process may take it first).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Stop()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited between the check and the kill.
        }
        // Also drains the output handlers, so none writes to the log after it is closed.
        _process.WaitForExit();
    }

    public void Dispose()
    {
        AppDomain.CurrentDomain.ProcessExit -= _stopOnExit;
        Stop();
        _process.Dispose();
        lock (_log) _log.Dispose();
    }

    private sealed class ServerExitedException(string message) : InvalidOperationException(message);
}
