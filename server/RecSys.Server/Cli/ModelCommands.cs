using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using RecSys.Engine.Model;

namespace RecSys.Server.Cli;

/// <summary><c>recsys model info</c>: validate a model file and describe it.</summary>
internal static class ModelCommands
{
    public static Command Create()
    {
        var model = new Command("model", "Inspect model files");
        model.Subcommands.Add(Info());
        return model;
    }

    private static Command Info()
    {
        var cmd = new Command("info", "Load and validate a model.npz, then describe it");
        var path = new Argument<string>("path") { Description = "Path to model.npz" };
        var json = CliOptions.Json();
        cmd.Arguments.Add(path);
        cmd.Options.Add(json);
        cmd.SetAction(r =>
        {
            string file = r.GetValue(path)!;
            var model = ModelFile.Load(file);
            var info = new JsonObject
            {
                ["users"] = model.UserCount,
                ["items"] = model.ItemCount,
                ["factors"] = model.Factors,
                ["format_version"] = model.FormatVersion,
                ["file_bytes"] = new FileInfo(file).Length,
                ["interactions"] = model.UserItems?.Nnz,
                ["has_item_popularity"] = model.ItemPopularity is not null,
                ["parameters"] = model.ParametersJson is null ? null : JsonNode.Parse(model.ParametersJson),
            };
            if (r.GetValue(json))
            {
                Console.WriteLine(info.ToJsonString());
            }
            else
            {
                Console.WriteLine(info.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            }
            return 0;
        });
        return cmd;
    }
}
