using System.CommandLine;
using System.Text.Json.Nodes;
using RecSys.Engine.Als;
using RecSys.Engine.Model;
using RecSys.Engine.Sparse;
using RecSys.Engine.Training;

namespace RecSys.Server.Cli;

/// <summary><c>recsys train</c>: interactions in, model.npz out.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var cmd = new Command("train", "Train an ALS model and write model.npz");
        var input = new InputOptions();
        var als = new AlsCliOptions();
        var output = new Option<string>("--out", "-o") { Description = "Where to write model.npz", Required = true };
        var json = CliOptions.Json();
        var tune = new TuneCliOptions();
        input.AddTo(cmd);
        als.AddTo(cmd);
        tune.AddTo(cmd);
        cmd.Options.Add(output);
        cmd.Options.Add(json);
        cmd.SetAction(async (r, ct) =>
        {
            var options = als.Read(r);
            var device = als.ReadDevice(r);
            var data = await input.LoadAsync(r, ct);
            var matrix = InteractionMatrix.Build(data.Table);
            if (matrix.Nnz == 0)
            {
                throw new CliException($"{data.Source} holds no interactions: nothing to train on");
            }
            bool quiet = r.GetValue(json);
            (options, var tuned) = tune.Apply(r, matrix.UserItems, options, k: 10, quiet, ct);
            string deviceUsed = "";
            var factors = TrainingProgress.Run(options.Iterations, quiet,
                report => ModelBuilder.Train(matrix.UserItems, options, device, out deviceUsed, report, ct));
            if (!quiet) Console.Error.WriteLine($"device: {deviceUsed}");
            var model = ModelBuilder.Build(matrix, factors, options, data.Source);
            string path = r.GetValue(output)!;
            ModelFile.Save(model, path);
            if (quiet)
            {
                var report = new JsonObject
                {
                    ["users"] = matrix.Users.Count,
                    ["items"] = matrix.Items.Count,
                    ["interactions"] = (long)matrix.Nnz,
                    ["factors"] = options.Factors,
                    ["iterations"] = options.Iterations,
                    ["seconds_per_iteration"] = Math.Round(factors.SecondsPerIteration, 5),
                    ["train_seconds"] = Math.Round(factors.TrainSeconds, 4),
                };
                if (tuned is not null) report["tuned"] = tuned;
                Console.WriteLine(report.ToJsonString());
            }
            else
            {
                Console.WriteLine($"trained {matrix.Users.Count:N0} users × {matrix.Items.Count:N0} items ({matrix.Nnz:N0} interactions), " +
                    $"{options.Factors} factors, {options.Iterations} iterations in {factors.TrainSeconds:F2} s " +
                    $"({factors.SecondsPerIteration:F4} s/iteration) → {path}");
            }
            return 0;
        });
        return cmd;
    }
}
