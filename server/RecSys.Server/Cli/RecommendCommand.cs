using System.CommandLine;
using System.Globalization;
using RecSys.Engine.Compute.Gpu;
using RecSys.Engine.Model;
using RecSys.Engine.Recommend;

namespace RecSys.Server.Cli;

/// <summary><c>recsys recommend</c>: batch top-N for many users into a TSV, in parallel.</summary>
internal static class RecommendCommand
{
    public static Command Create()
    {
        var cmd = new Command("recommend", "Write top-N recommendations (user_id, track_id, score) for many users");
        var modelPath = new Option<string>("--model", "-m") { Description = "model.npz", Required = true };
        var users = new Option<string>("--users") { Description = "'all' or a file of user ids, one per line", DefaultValueFactory = _ => "all" };
        var k = new Option<int>("--k") { Description = "Recommendations per user", DefaultValueFactory = _ => 10 };
        var output = new Option<string>("--out", "-o") { Description = "Output TSV file", Required = true };
        var includeHeard = new Option<bool>("--include-heard") { Description = "Do not exclude tracks the user already has" };
        var skipUnknown = new Option<bool>("--skip-unknown") { Description = "Skip user ids the model does not know (and report how many) instead of failing" };
        var threads = new Option<int>("--threads") { Description = "Worker threads (0 = all cores)", DefaultValueFactory = _ => 0 };
        var device = new Option<string>("--device") { Description = "auto (CUDA when found, else CPU), cpu, gpu, or ilgpu-cpu (kernel verification, slow)", DefaultValueFactory = _ => "auto" };
        foreach (var o in new Option[] { modelPath, users, k, output, includeHeard, skipUnknown, threads, device }) cmd.Options.Add(o);
        cmd.SetAction(r =>
        {
            int count = r.GetValue(k);
            if (count < 1) throw new CliException("--k must be >= 1");
            if (r.GetValue(threads) < 0) throw new CliException("--threads must be >= 0");
            TrainingDevice where;
            try
            {
                where = DeviceSelector.Parse(r.GetValue(device)!);
            }
            catch (ArgumentException e)
            {
                throw new CliException($"--device: {e.Message}");
            }
            var model = ModelFile.Load(r.GetValue(modelPath)!);
            int[] targets = ResolveUsers(model, r.GetValue(users)!, r.GetValue(skipUnknown));
            using var selected = Select(where, model, count, r.GetValue(threads));
            Console.Error.WriteLine($"device: {selected.Reason}");
            string path = r.GetValue(output)!;
            string temp = path + ".tmp";
            try
            {
                using var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
                using var writer = new RecommendationsTsv(file);
                selected.Ranker.RankAll(targets, count, !r.GetValue(includeHeard), (start, lists) =>
                {
                    for (int i = 0; i < lists.Length; i++) writer.Write(model.UserIds[targets[start + i]], lists[i], model.TrackIds);
                });
            }
            catch
            {
                // A run that fails leaves no half-written file behind, and an earlier one in place.
                File.Delete(temp);
                throw;
            }
            File.Move(temp, path, overwrite: true);
            Console.Error.WriteLine($"wrote recommendations for {targets.Length:N0} users to {path}");
            return 0;
        });
        return cmd;
    }

    private static SelectedRanker Select(TrainingDevice device, RecModel model, int k, int threads)
    {
        try
        {
            return RankerSelector.Select(device, model, k, threads);
        }
        catch (InvalidOperationException e)
        {
            throw new CliException(e.Message);
        }
    }

    private static int[] ResolveUsers(RecModel model, string users, bool skipUnknown)
    {
        if (users == "all")
        {
            return Enumerable.Range(0, model.UserCount).ToArray();
        }
        if (!File.Exists(users)) throw new CliException($"--users: file not found: {users}");
        var result = new List<int>();
        long line = 0, unknown = 0;
        foreach (string text in File.ReadLines(users))
        {
            line++;
            string t = text.Trim();
            if (t.Length == 0) continue;
            if (!long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long id))
            {
                if (line == 1) continue; // a header
                throw new CliException($"{users}:{line}: not a user id: \"{t}\"");
            }
            int index = model.UserIndex.IndexOf(id);
            if (index < 0)
            {
                if (!skipUnknown) throw new CliException($"{users}:{line}: user {id} is not in the model (use --skip-unknown to skip such users)");
                unknown++;
                continue;
            }
            result.Add(index);
        }
        if (unknown > 0) Console.Error.WriteLine($"warning: skipped {unknown} user id(s) the model does not know");
        return [.. result];
    }
}
