using System.Collections;
using RecSys.Engine.Data;

namespace RecSys.Server.Configuration;

/// <summary>
/// Builds <see cref="ServerOptions"/> from, in increasing precedence: appsettings.json beside the
/// executable, RECSYS__* environment variables (RECSYS__PORT=9000, RECSYS__TRAINING__FACTORS=128),
/// RECSYS_DB, and explicit overrides (the command line).
/// </summary>
public static class ServerConfiguration
{
    public static IConfigurationRoot Build(IReadOnlyDictionary<string, string?> overrides, IDictionary? environment = null)
    {
        var builder = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddInMemoryCollection(FromEnvironment(environment ?? Environment.GetEnvironmentVariables()))
            .AddInMemoryCollection(overrides);
        return builder.Build();
    }

    /// <summary>RECSYS__A__B=v becomes RecSys:A:B=v; RECSYS_DB becomes RecSys:Db.</summary>
    private static Dictionary<string, string?> FromEnvironment(IDictionary environment)
    {
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (DictionaryEntry e in environment)
        {
            string key = e.Key.ToString() ?? "";
            if (key.StartsWith("RECSYS__", StringComparison.OrdinalIgnoreCase) && key.Length > 8)
            {
                settings[$"{ServerOptions.Section}:{key[8..].Replace("__", ":", StringComparison.Ordinal)}"] = e.Value?.ToString();
            }
        }
        if (environment["RECSYS_DB"] is string db && db.Length > 0) settings[$"{ServerOptions.Section}:Db"] = db;
        return settings;
    }

    /// <summary>The <c>RecSys:Db:*</c> table and column names (the defaults where a setting is absent).</summary>
    public static PostgresMapping BindMapping(IConfiguration configuration)
    {
        var mapping = new PostgresMapping();
        try
        {
            configuration.GetSection(PostgresMapping.Section).Bind(mapping);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException($"invalid configuration: {e.Message}", e);
        }
        return mapping;
    }

    /// <summary>Binds and validates; throws with every problem listed when the configuration is invalid.</summary>
    public static ServerOptions Bind(IConfiguration configuration)
    {
        var options = new ServerOptions();
        var section = configuration.GetSection(ServerOptions.Section);
        try
        {
            // RecSys:Db:* is the mapping, bound below: the binder cannot bind a string from a key with children.
            var withoutMapping = new ConfigurationBuilder().AddInMemoryCollection(configuration.AsEnumerable()
                .Where(s => !s.Key.StartsWith(PostgresMapping.Section + ":", StringComparison.OrdinalIgnoreCase))).Build();
            withoutMapping.GetSection(ServerOptions.Section).Bind(options);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException($"invalid configuration: {e.Message}", e);
        }
        // RecSys:Db is the connection string and RecSys:Db:* the schema mapping: one key can hold both
        // a value (environment, --set) and children, but a JSON file cannot, so appsettings.json may give
        // the connection string as RecSys:Db:ConnectionString instead.
        var db = section.GetSection("Db");
        if (string.IsNullOrWhiteSpace(options.Db) && db["ConnectionString"] is { Length: > 0 } connectionString) options.Db = connectionString;
        options.DbMapping = BindMapping(configuration);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new InvalidOperationException("invalid configuration:\n  " + string.Join("\n  ", problems));
        }
        return options;
    }
}
