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

    /// <summary>
    /// A demo model of the given size trained by this build (5 iterations, no tuning) and imported,
    /// promoted, into a store of its own in <paramref name="folder"/>; with the <c>recsys serve</c>
    /// arguments that give a server the same demo catalog and keep it from training.
    /// </summary>
    public static (string Store, string[] ServeArguments) DemoStore(string folder, int users, int tracks, long plays, int factors = 64)
    {
        string I(long v) => v.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string model = Path.Combine(folder, "model.npz");
        string store = Path.Combine(folder, "store");
        Run("train", "--input", "demo", "--demo-users", I(users), "--demo-tracks", I(tracks), "--demo-plays", I(plays),
            "--factors", I(factors), "--iterations", "5", "--tune", "off", "--out", model);
        Run("model", "import", model, "--promote", "--force", "--storage", store);
        return (store, ["--set", $"Demo:Users={users}", "--set", $"Demo:Tracks={tracks}", "--set", $"Demo:Plays={plays}", "--set", "TrainIfMissing=false"]);
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
