using System.Globalization;

namespace RecSys.Bench.Regress;

/// <summary>A model a build trained with <c>recsys train</c> on the demo catalog (seeded), for runs that measure retrieval.</summary>
public sealed class TrainedModel : IDisposable
{
    private readonly string _folder;

    private TrainedModel(string folder, string path)
    {
        _folder = folder;
        Path = path;
    }

    public string Path { get; }

    public static TrainedModel Train(string build, string folder, int users, int tracks, int plays)
    {
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        Directory.CreateDirectory(folder);
        string model = System.IO.Path.Combine(folder, "model.npz");
        var (code, stdout, stderr) = BenchProcess.Exec("dotnet",
            [System.IO.Path.Combine(build, "recsys.dll"), "train", "--input", "demo", "--out", model,
             "--demo-users", Text(users), "--demo-tracks", Text(tracks), "--demo-plays", Text(plays)], folder, null);
        if (code != 0) throw new InvalidOperationException($"regress: recsys train of {build} exited {code}:\n{stdout}{stderr}");
        return new TrainedModel(folder, model);
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }
}
