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
        model.Subcommands.Add(List());
        model.Subcommands.Add(Promote());
        model.Subcommands.Add(Rollback());
        return model;
    }

    private static Option<string> Storage() => new("--storage")
    {
        Description = "Model store folder",
        DefaultValueFactory = _ => new Hosting.ServerOptions().Storage,
    };

    private static Command List()
    {
        var cmd = new Command("list", "List stored model versions (newest last) and which one is current");
        var storage = Storage();
        var json = CliOptions.Json();
        cmd.Options.Add(storage);
        cmd.Options.Add(json);
        cmd.SetAction(r =>
        {
            var store = new Hosting.ModelStore(r.GetValue(storage)!);
            string? current = store.Current;
            var rows = new JsonArray();
            foreach (string v in store.Versions())
            {
                var m = store.ReadManifest(v);
                rows.Add(new JsonObject
                {
                    ["version"] = v,
                    ["current"] = v == current,
                    ["trained_at"] = m?.TrainedAtUtc,
                    ["users"] = m?.Users,
                    ["items"] = m?.Items,
                    ["ndcg@10"] = m?.Ndcg,
                });
            }
            if (r.GetValue(json))
            {
                Console.WriteLine(rows.ToJsonString());
                return 0;
            }
            if (rows.Count == 0) Console.WriteLine($"no model versions in {store.ModelsDirectory}");
            foreach (var row in rows)
            {
                Console.WriteLine($"{((bool)row!["current"]! ? "*" : " ")} {row["version"]}  users {row["users"]}  items {row["items"]}  ndcg@10 {row["ndcg@10"]}");
            }
            return 0;
        });
        return cmd;
    }

    private static Command Promote()
    {
        var cmd = new Command("promote", "Make a stored version current (a running server picks it up on POST /admin/reload)");
        var version = new Argument<string>("version") { Description = "Version name, as 'model list' shows it" };
        var storage = Storage();
        cmd.Arguments.Add(version);
        cmd.Options.Add(storage);
        cmd.SetAction(r =>
        {
            var store = new Hosting.ModelStore(r.GetValue(storage)!);
            string v = r.GetValue(version)!;
            ModelFile.Load(Path.Combine(store.VersionDirectory(v), Hosting.ModelStore.ModelFileName)); // refuse a version that does not load
            store.Promote(v);
            Console.WriteLine($"current: {v}");
            return 0;
        });
        return cmd;
    }

    private static Command Rollback()
    {
        var cmd = new Command("rollback", "Make the previously promoted version current again");
        var storage = Storage();
        cmd.Options.Add(storage);
        cmd.SetAction(r =>
        {
            string v = new Hosting.ModelStore(r.GetValue(storage)!).Rollback();
            Console.WriteLine($"current: {v}");
            return 0;
        });
        return cmd;
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
