using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace RecSys.Tests;

/// <summary>
/// A PostgreSQL server of one test's own (a cluster made by initdb in a temporary folder, on a free
/// port), which the test may stop and start again as an operator's restart would, without touching the
/// server every other test shares. Uses the binaries ./test.sh installs (RECSYS_TEST_PGBIN, default
/// PostgreSQL 15's); as root it runs them as the postgres user, as PostgreSQL requires.
/// </summary>
public sealed class PrivatePostgres : IDisposable
{
    private readonly string _bin = Environment.GetEnvironmentVariable("RECSYS_TEST_PGBIN") ?? "/usr/lib/postgresql/15/bin";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "recsys-private-pg-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly bool _asRoot = Environment.UserName == "root";

    public PrivatePostgres()
    {
        if (!File.Exists(Path.Combine(_bin, "initdb")))
        {
            throw new InvalidOperationException($"no initdb in {_bin}: the restart tests need the PostgreSQL binaries ./test.sh installs (set RECSYS_TEST_PGBIN)");
        }
        Directory.CreateDirectory(_root);
        if (_asRoot) Run("chown", "postgres:", _root);
        Port = FreePort();
        Run(Pg("initdb"), "-D", Data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync");
        Start();
        ConnectionString = $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Pooling=false";
    }

    public int Port { get; }

    public string ConnectionString { get; }

    private string Data => Path.Combine(_root, "data");

    private string Pg(string tool) => Path.Combine(_bin, tool);

    /// <summary>Starts the server and waits until it accepts connections.</summary>
    public void Start() => Run(Pg("pg_ctl"), "-D", Data, "-l", Path.Combine(_root, "server.log"), "-w", "-t", "60",
        "-o", $"-p {Port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={_root} -c fsync=off -c max_connections=100", "start");

    /// <summary>Stops it as a restart does (fast: every session is ended, nothing committed is lost).</summary>
    public void Stop() => Run(Pg("pg_ctl"), "-D", Data, "-m", "fast", "-w", "-t", "60", "stop");

    private void Run(string program, params string[] args)
    {
        var info = new ProcessStartInfo(_asRoot && program != "chown" ? "runuser" : program) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (_asRoot && program != "chown")
        {
            foreach (var a in new[] { "-u", "postgres", "--", program }) info.ArgumentList.Add(a);
        }
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited {process.ExitCode}: {error} {output.Result}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        try
        {
            Run(Pg("pg_ctl"), "-D", Data, "-m", "immediate", "-w", "stop");
        }
        catch (InvalidOperationException)
        {
            // Already stopped.
        }
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A temporary folder left behind is not worth failing a test for.
        }
    }
}
