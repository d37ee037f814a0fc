using System.Diagnostics;
using System.Globalization;
using RecSys.Bench.Regress;
using StackExchange.Redis;

namespace RecSys.Bench.Experiments;

/// <summary>A redis-server of this run's own on a free loopback port, without persistence.</summary>
public sealed class RedisProcess : IDisposable
{
    private readonly Process _process;

    private RedisProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public static RedisProcess Start(string program, string folder)
    {
        int port = RunningServer.FreePort();
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = folder };
        foreach (var a in new[] { "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" }) info.ArgumentList.Add(a);
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {program}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException(
                $"redis-cache needs Redis: '{program}' could not be started ({e.Message}); apt-get install redis-server, or name it with --redis-server", e);
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var running = new RedisProcess(process, port);
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var ping = ConnectionMultiplexer.Connect($"127.0.0.1:{port},connectTimeout=500");
                ping.GetDatabase().Ping();
                return running;
            }
            catch (RedisConnectionException) when (deadline.Elapsed < TimeSpan.FromSeconds(20) && !process.HasExited)
            {
                Thread.Sleep(100);
            }
            catch
            {
                running.Dispose();
                throw;
            }
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill();
        _process.WaitForExit();
        _process.Dispose();
    }
}
