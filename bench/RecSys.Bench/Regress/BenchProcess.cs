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

    public static (int Code, string Stdout, string Stderr) Exec(string file, IEnumerable<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string>? environment)
    {
        using var process = Process.Start(StartInfo(file, arguments, workingDirectory, environment)) ?? throw new InvalidOperationException($"could not start {file}");
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout, stderr.Result);
    }

    public static ProcessStartInfo StartInfo(string file, IEnumerable<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string>? environment)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        foreach (string a in arguments) start.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) start.Environment[k] = v;
        return start;
    }
}
