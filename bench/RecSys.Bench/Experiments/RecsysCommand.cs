using RecSys.Bench.Regress;

namespace RecSys.Bench.Experiments;

/// <summary>This build's <c>recsys</c> run as a child process: how the replica and memory experiments prepare their data and stores.</summary>
internal static class RecsysCommand
{
    public static string Build => AppContext.BaseDirectory;

    /// <summary>Runs <c>recsys ARGUMENTS</c>; a non-zero exit is an error carrying its output.</summary>
    public static void Run(params string[] arguments)
    {
        var (code, stdout, stderr) = BenchProcess.Exec("dotnet", [Path.Combine(Build, "recsys.dll"), .. arguments], Build, null);
        if (code != 0) throw new InvalidOperationException($"recsys {string.Join(' ', arguments.Take(2))} exited {code}: {stdout}{stderr}");
    }

    /// <summary>The <c>--out</c> folder (or <paramref name="fallback"/>), emptied: each run starts from nothing.</summary>
    public static string FreshOutput(string[] args, string fallback)
    {
        string outDir = Path.GetFullPath(Experiment.Arg(args, "--out") ?? fallback);
        if (Directory.Exists(outDir)) Directory.Delete(outDir, recursive: true);
        Directory.CreateDirectory(outDir);
        return outDir;
    }
}
