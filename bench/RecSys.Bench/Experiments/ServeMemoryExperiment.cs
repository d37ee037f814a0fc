using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RecSys.Bench.Regress;

namespace RecSys.Bench.Experiments;

/// <summary>
/// <c>serve-memory [--sizes 10000x20000,40000x20000,10000x80000] [--plays-per-user 60] [--factors 64]
/// [--out serve-memory-out]</c>: what a serving replica holds per user and per track. For each
/// users×tracks size a demo model is trained (<c>recsys train --input demo</c>), imported into a store
/// of its own and served by <c>recsys serve</c> of this build, which loads it (factors, HNSW index,
/// precomputed lists, catalog) and collects once before it is ready; its managed heap
/// (<c>dotnet_total_memory_bytes</c>) and resident set (<c>process_working_set_bytes</c>) are then read
/// from /metrics. A least-squares fit of bytes = base + a·users + b·tracks over the sizes gives the
/// per-user and per-track cost docs/scaling.md sizes deployments with.
/// </summary>
public static partial class ServeMemoryExperiment
{
    public static int Run(string[] args)
    {
        var sizes = (Experiment.Arg(args, "--sizes") ?? "10000x20000,40000x20000,10000x80000").Split(',').Select(ParseSize).ToArray();
        if (sizes.Length < 3) throw new ArgumentException("--sizes needs at least three users×tracks sizes to fit a base, a per-user and a per-track cost");
        int playsPerUser = Experiment.PositiveIntArg(args, "--plays-per-user", 60);
        int factors = Experiment.PositiveIntArg(args, "--factors", 64);
        string outDir = RecsysCommand.FreshOutput(args, "serve-memory-out");
        string build = RecsysCommand.Build;

        var rows = new List<(int Users, int Tracks, double Managed, double Resident)>();
        foreach (var (users, tracks) in sizes)
        {
            string folder = Path.Combine(outDir, $"{users}x{tracks}");
            Directory.CreateDirectory(folder);
            var (store, serve) = RecsysCommand.DemoStore(folder, users, tracks, (long)users * playsPerUser, factors);
            using var server = RunningServer.Start(build, Path.Combine(folder, "server"), store, serve);
            using var http = new HttpClient { BaseAddress = server.Url };
            string metrics = http.GetStringAsync("/metrics").GetAwaiter().GetResult();
            rows.Add((users, tracks, Gauge(metrics, "dotnet_total_memory_bytes"), Gauge(metrics, "process_working_set_bytes")));
            Console.Error.WriteLine($"serve-memory: {users} users × {tracks} tracks: managed {rows[^1].Managed / 1048576:F0} MB, resident {rows[^1].Resident / 1048576:F0} MB");
        }
        var managed = Fit(rows.Select(r => (r.Users, r.Tracks, r.Managed)).ToList());
        var resident = Fit(rows.Select(r => (r.Users, r.Tracks, r.Resident)).ToList());
        var result = new JsonObject
        {
            ["factors"] = factors,
            ["plays_per_user"] = playsPerUser,
            ["sizes"] = new JsonArray([.. rows.Select(r => (JsonNode)new JsonObject
            {
                ["users"] = r.Users, ["tracks"] = r.Tracks,
                ["managed_mb"] = Math.Round(r.Managed / 1048576, 1), ["resident_mb"] = Math.Round(r.Resident / 1048576, 1),
            })]),
            ["managed_fit"] = FitJson(managed),
            ["resident_fit"] = FitJson(resident),
        };
        Console.WriteLine(result.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }

    private static JsonObject FitJson((double Base, double PerUser, double PerTrack) fit) => new()
    {
        ["base_mb"] = Math.Round(fit.Base / 1048576, 1),
        ["bytes_per_user"] = Math.Round(fit.PerUser),
        ["bytes_per_track"] = Math.Round(fit.PerTrack),
    };

    /// <summary>Least squares of y = base + a·users + b·tracks (normal equations, 3×3, by Cramer's rule).</summary>
    public static (double Base, double PerUser, double PerTrack) Fit(IReadOnlyList<(int Users, int Tracks, double Y)> rows)
    {
        var m = new double[3, 3];
        var v = new double[3];
        foreach (var (users, tracks, y) in rows)
        {
            double[] x = [1, users, tracks];
            for (int i = 0; i < 3; i++)
            {
                v[i] += x[i] * y;
                for (int j = 0; j < 3; j++) m[i, j] += x[i] * x[j];
            }
        }
        double det = Det(m);
        // Relative to the diagonal's scale (sums of squares of sizes run to 1e13): rounding leaves a collinear set a tiny nonzero determinant.
        if (Math.Abs(det) <= 1e-9 * m[0, 0] * m[1, 1] * m[2, 2]) throw new ArgumentException("--sizes must vary users and tracks independently (the fit is singular)");
        var solution = new double[3];
        for (int k = 0; k < 3; k++)
        {
            var mk = (double[,])m.Clone();
            for (int i = 0; i < 3; i++) mk[i, k] = v[i];
            solution[k] = Det(mk) / det;
        }
        return (solution[0], solution[1], solution[2]);
    }

    private static double Det(double[,] a) =>
        a[0, 0] * (a[1, 1] * a[2, 2] - a[1, 2] * a[2, 1]) - a[0, 1] * (a[1, 0] * a[2, 2] - a[1, 2] * a[2, 0]) + a[0, 2] * (a[1, 0] * a[2, 1] - a[1, 1] * a[2, 0]);

    private static (int Users, int Tracks) ParseSize(string text)
    {
        var parts = text.Split('x');
        return parts.Length == 2 && int.TryParse(parts[0], CultureInfo.InvariantCulture, out int u) && int.TryParse(parts[1], CultureInfo.InvariantCulture, out int t) && u > 0 && t > 0
            ? (u, t) : throw new ArgumentException($"--sizes: '{text}' is not USERSxTRACKS (e.g. 10000x20000)");
    }

    private static double Gauge(string metrics, string name)
    {
        var match = Regex.Match(metrics, $"^{name} ([0-9.eE+]+)$", RegexOptions.Multiline);
        return match.Success ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : throw new InvalidDataException($"/metrics has no {name}");
    }
}
