using System.Text.Json;
using System.Text.Json.Nodes;

namespace RecSys.Bench.Experiments;

/// <summary>
/// <c>fuzz [--target all|delimited|npz-zip|npz-entry|hnsw|lists|experiment|events|http] [--cases 2000] [--seed 1] [--url http://127.0.0.1:8000]</c>:
/// <see cref="Fuzzer"/> at length (and <see cref="HttpFuzzer"/> against a running server for <c>http</c>,
/// which <c>all</c> leaves out); prints per target the inputs, how many were accepted and refused, and
/// every crash or hang (exit 1 when there is any).
/// </summary>
public static class FuzzExperiment
{
    public static int Run(string[] args)
    {
        string target = Experiment.Arg(args, "--target") ?? "all";
        int cases = Experiment.PositiveIntArg(args, "--cases", 2000);
        ulong seed = (ulong)Experiment.PositiveIntArg(args, "--seed", 1);
        var targets = target == "all" ? Fuzzer.Targets : [target];
        var results = new JsonArray();
        int failures = 0;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        foreach (string t in targets)
        {
            var report = t == "http"
                ? HttpFuzzer.RunAsync(new Uri(Experiment.Arg(args, "--url") ?? "http://127.0.0.1:8000"), cases, seed).GetAwaiter().GetResult()
                : Fuzzer.Run(t, cases, seed);
            failures += report.Failures.Count;
            results.Add(new JsonObject
            {
                ["target"] = t,
                ["inputs"] = report.Inputs,
                ["accepted"] = report.Accepted,
                ["refused"] = report.Refused,
                ["crashes_or_hangs"] = report.Failures.Count,
                ["failures"] = new JsonArray([.. report.Failures.Take(20).Select(f => (JsonNode)JsonValue.Create(f))]),
            });
        }
        Console.WriteLine(new JsonObject { ["seed"] = seed, ["targets"] = results, ["seconds"] = Math.Round(watch.Elapsed.TotalSeconds, 1) }
            .ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return failures == 0 ? 0 : 1;
    }
}
