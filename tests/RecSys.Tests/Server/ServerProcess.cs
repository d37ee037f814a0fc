using System.Diagnostics;
using System.Text.RegularExpressions;

namespace RecSys.Tests.Server;

/// <summary>
/// <c>recsys serve</c> as a child process on a free port, to be killed like a crashing server
/// (SIGKILL: no shutdown code runs). Trains a small demo model at its first start.
/// </summary>
public sealed partial class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _output;

    private ServerProcess(Process process, Uri address, System.Collections.Concurrent.ConcurrentQueue<string> output)
    {
        _process = process;
        _output = output;
        Http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
    }

    public HttpClient Http { get; }

    /// <summary>What the server has logged so far (for a failing assertion's message).</summary>
    public string Log => string.Join("\n", _output);

    public static async Task<ServerProcess> StartAsync(string storage, string? db = null, params string[] extra)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "recsys.dll"));
        string[] args =
        [
            "serve", "--port", "0", "--storage", storage, "--schedule", "",
            "--set", "Demo:Users=300", "--set", "Demo:Tracks=1500", "--set", "Demo:Plays=30000",
            "--set", "Training:Factors=16", "--set", "Training:Iterations=4", "--set", "Tuning:Mode=off",
        ];
        foreach (string a in args) psi.ArgumentList.Add(a);
        if (db is not null)
        {
            psi.ArgumentList.Add("--db");
            psi.ArgumentList.Add(db);
        }
        foreach (string a in extra) psi.ArgumentList.Add(a);
        var process = Process.Start(psi)!;
        process.StandardInput.Close();
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        void Watch(string? line)
        {
            if (line is null) return;
            output.Enqueue(line);
            if (Listening().Match(line) is { Success: true } m) listening.TrySetResult(new Uri(m.Groups[1].Value));
        }
        process.OutputDataReceived += (_, e) => Watch(e.Data);
        process.ErrorDataReceived += (_, e) => Watch(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _ = process.WaitForExitAsync().ContinueWith(_ => listening.TrySetException(new InvalidOperationException($"recsys serve exited: {string.Join("\n", output)}")));
        try
        {
            return new ServerProcess(process, await listening.Task.WaitAsync(TimeSpan.FromMinutes(2)), output);
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw;
        }
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex Listening();

    /// <summary>
    /// SIGKILL, and wait until it is gone, without blocking: the child's output pipes complete on the
    /// socket engine's threads, which a blocking wait may be holding (inline socket completions).
    /// </summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        Http.Dispose();
        _process.Dispose();
    }
}
