using System.Diagnostics;

namespace RecSys.Bench.Regress;

/// <summary>The bench executable of a build, run as a process of its own, and the other processes a regression run starts.</summary>
public static class BenchProcess
{
    /// <summary>Runs RecSys.Bench of <paramref name="build"/> with <paramref name="arguments"/>; its standard output, or an error naming the run.</summary>
    public static string Run(string build, string[] arguments, IReadOnlyDictionary<string, string>? environment)
    {
        var (code, stdout, stderr) = Exec("dotnet", [Path.Combine(build, "RecSys.Bench.dll"), .. arguments], build, environment);
        string text = stdout + stderr;
        if (code != 0) throw new InvalidOperationException($"regress: {string.Join(' ', arguments)} in {build} exited {code}:\n{text[^Math.Min(text.Length, 2000)..]}");
        return stdout;
    }

    /// <summary>
    /// Longer than any one step takes here (the slowest suite is under two minutes, a build under five),
    /// so that a hung benchmark ends a nightly run with an error instead of holding it forever.
    /// </summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(20);

    public static (int Code, string Stdout, string Stderr) Exec(string file, IEnumerable<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string>? environment)
    {
        var start = StartInfo(file, arguments, workingDirectory, environment);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException($"regress: {file} {string.Join(' ', start.ArgumentList)} ran past {Timeout.TotalMinutes} minutes and was stopped");
        }
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    public static ProcessStartInfo StartInfo(string file, IEnumerable<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string>? environment)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        foreach (string a in arguments) start.ArgumentList.Add(a);
        // The user's RecSys settings (a database, a port, a schedule) must not change what is measured.
        foreach (string name in start.Environment.Keys.Where(k => k == "RECSYS_DB" || k.StartsWith("RecSys__", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) start.Environment[k] = v;
        return start;
    }
}
