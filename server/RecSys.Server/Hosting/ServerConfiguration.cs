namespace RecSys.Server.Hosting;

/// <summary>
/// Builds <see cref="ServerOptions"/> from, in increasing precedence: appsettings.json beside the
/// executable, RECSYS__* environment variables (RECSYS__PORT=9000, RECSYS__TRAINING__FACTORS=128),
/// RECSYS_DB, and explicit overrides (the command line).
/// </summary>
public static class ServerConfiguration
{
    public static IConfigurationRoot Build(IReadOnlyDictionary<string, string?> overrides)
    {
        var builder = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddEnvironmentVariables("RECSYS__")
            .AddInMemoryCollection(Environment.GetEnvironmentVariable("RECSYS_DB") is { Length: > 0 } db
                ? new Dictionary<string, string?> { [$"{ServerOptions.Section}:Db"] = db }
                : [])
            .AddInMemoryCollection(overrides);
        return builder.Build();
    }

    /// <summary>Binds and validates; throws with every problem listed when the configuration is invalid.</summary>
    public static ServerOptions Bind(IConfiguration configuration)
    {
        var options = new ServerOptions();
        var section = configuration.GetSection(ServerOptions.Section);
        try
        {
            section.Bind(options);
            // RECSYS__PORT style variables arrive at the root (the prefix is stripped); bind those too.
            configuration.Bind(options);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException($"invalid configuration: {e.Message}", e);
        }
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new InvalidOperationException("invalid configuration:\n  " + string.Join("\n  ", problems));
        }
        return options;
    }
}
