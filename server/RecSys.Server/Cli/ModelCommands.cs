using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using RecSys.Engine.IO;
using RecSys.Engine.Model;
using RecSys.Server.Configuration;
using RecSys.Server.Hosting;

namespace RecSys.Server.Cli;

/// <summary><c>recsys model info</c>: validate a model file and describe it.</summary>
internal static class ModelCommands
{
    public static Command Create()
    {
        var model = new Command("model", "Inspect model files and manage the model store");
        model.Subcommands.Add(Info());
        model.Subcommands.Add(List());
        model.Subcommands.Add(Promote());
        model.Subcommands.Add(Rollback());
        model.Subcommands.Add(Import());
        return model;
    }

    private static Option<string> Storage() => new("--storage")
    {
        Description = "Model store folder",
        DefaultValueFactory = _ => new Configuration.ServerOptions().Storage,
    };

    private static Option<string?> Db() => new("--db")
    {
        Description = "PostgreSQL connection string of replicas' shared model registry (default: the RECSYS_DB environment variable; without either, the store's own files)",
    };

    /// <summary>
    /// The store, with the registry the servers use: with a database, the shared one (a change there
    /// reaches every replica through its notification), else the store's files.
    /// </summary>
    private static Hosting.ModelStore OpenStore(ParseResult r, Option<string> storage, Option<string?> db)
    {
        string root = r.GetValue(storage)!;
        string? connectionString = r.GetValue(db) ?? Environment.GetEnvironmentVariable("RECSYS_DB");
        if (string.IsNullOrWhiteSpace(connectionString)) return new Hosting.ModelStore(root);
        // The process ends with the command: the data source needs no disposing.
        var registry = new Cluster.PostgresPromotionRegistry(Npgsql.NpgsqlDataSource.Create(connectionString), $"cli@{Environment.MachineName}",
            new FilePromotionRegistry(Path.GetFullPath(root)));
        registry.EnsureInitialized();
        return new Hosting.ModelStore(root, registry: registry);
    }

    private static Command List()
    {
        var cmd = new Command("list", "List stored model versions (newest last) and which one is current");
        var storage = Storage();
        var db = Db();
        var json = CliOptions.Json();
        cmd.Options.Add(storage);
        cmd.Options.Add(db);
        cmd.Options.Add(json);
        cmd.SetAction(r =>
        {
            var store = OpenStore(r, storage, db);
            string? current = store.Current;
            var broken = store.Broken();
            var rows = new JsonArray();
            foreach (string v in store.Versions())
            {
                ModelManifest? m = null;
                string? problem = broken.GetValueOrDefault(v);
                try
                {
                    m = store.ReadManifest(v);
                }
                catch (Exception e) when (e is ModelFormatException or IOException)
                {
                    problem ??= e.Message;
                }
                rows.Add(new JsonObject
                {
                    ["version"] = v,
                    ["current"] = v == current,
                    ["trained_at"] = m?.TrainedAtUtc,
                    ["users"] = m?.Users,
                    ["items"] = m?.Items,
                    ["ndcg@10"] = m?.Ndcg,
                    ["source"] = m?.Source,
                    ["broken"] = problem,
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
                string state = row!["broken"] is { } reason ? $"  BROKEN: {reason}" : "";
                Console.WriteLine($"{((bool)row["current"]! ? "*" : " ")} {row["version"]}  users {row["users"]}  items {row["items"]}  ndcg@10 {row["ndcg@10"]}{state}");
            }
            return 0;
        });
        return cmd;
    }

    private static Command Promote()
    {
        var cmd = new Command("promote", "Make a stored version current (a running server picks it up on POST /admin/reload; replicas sharing --db follow at once)");
        var version = new Argument<string>("version") { Description = "Version name, as 'model list' shows it" };
        var storage = Storage();
        var db = Db();
        cmd.Arguments.Add(version);
        cmd.Options.Add(storage);
        cmd.Options.Add(db);
        cmd.SetAction(r =>
        {
            var store = OpenStore(r, storage, db);
            string v = r.GetValue(version)!;
            // Refuse a name that is not a version, and a version whose model or manifest does not load.
            ModelFile.Load(Path.Combine(store.VersionDirectory(v), Hosting.ModelStore.ModelFileName));
            store.ReadManifest(v);
            store.ClearBroken(v);
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
        var db = Db();
        cmd.Options.Add(storage);
        cmd.Options.Add(db);
        cmd.SetAction(r =>
        {
            string v = OpenStore(r, storage, db).Rollback();
            Console.WriteLine($"current: {v}");
            return 0;
        });
        return cmd;
    }

    private static Command Import()
    {
        var cmd = new Command("import", "Add a model file written elsewhere (RecSys's, or numpy savez with user_factors, item_factors, user_ids, track_ids) to the store as a new version");
        var path = new Argument<string>("file") { Description = "Path to the .npz file" };
        var storage = Storage();
        var promote = new Option<bool>("--promote") { Description = "Make it current after the import gate (a running server picks it up on POST /admin/reload; replicas sharing --db follow at once)" };
        var force = new Option<bool>("--force") { Description = "With --promote: skip the import gate" };
        var json = CliOptions.Json();
        var db = Db();
        cmd.Arguments.Add(path);
        foreach (var o in new Option[] { storage, db, promote, force, json }) cmd.Options.Add(o);
        cmd.SetAction(r =>
        {
            string file = r.GetValue(path)!;
            if (r.GetValue(force) && !r.GetValue(promote)) throw new CliException("--force skips the import gate of --promote; without --promote there is no gate to skip");
            var store = OpenStore(r, storage, db);
            string sha256 = FileHash.Sha256(file);
            string? existing = store.FindImport(sha256);
            string version = existing ?? store.Import(file, sha256, TimeProvider.System);
            var gate = new List<string>();
            bool promoted = false;
            if (r.GetValue(promote))
            {
                var candidate = ModelFile.Load(Path.Combine(store.VersionDirectory(version), Hosting.ModelStore.ModelFileName));
                RecModel? current = null;
                if (store.Current is { } c)
                {
                    try
                    {
                        current = ModelFile.Load(Path.Combine(store.VersionDirectory(c), Hosting.ModelStore.ModelFileName));
                    }
                    catch (Exception e) when (e is ModelFormatException or IOException)
                    {
                        // A current version that does not load is no yardstick.
                    }
                }
                gate = Hosting.ImportGate.Check(candidate, current);
                if (gate.Count > 0 && !r.GetValue(force))
                {
                    throw new CliException($"{file} was stored as {version} but not promoted: {string.Join("; ", gate)} (--force promotes it anyway)");
                }
                store.Promote(version);
                promoted = true;
            }
            if (r.GetValue(json))
            {
                Console.WriteLine(new JsonObject
                {
                    ["version"] = version,
                    ["already_imported"] = existing is not null,
                    ["promoted"] = promoted,
                    ["gate_overridden"] = new JsonArray(gate.Select(g => (JsonNode)g).ToArray()),
                }.ToJsonString());
            }
            else
            {
                Console.WriteLine(existing is not null ? $"{file} was imported before as {version}" : $"imported {file} as {version}");
                if (promoted) Console.WriteLine($"current: {version}{(gate.Count > 0 ? $" (gate overridden: {string.Join("; ", gate)})" : "")}");
            }
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
