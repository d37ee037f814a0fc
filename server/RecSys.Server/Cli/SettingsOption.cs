using System.CommandLine;
using RecSys.Engine.Data;
using RecSys.Server.Configuration;

namespace RecSys.Server.Cli;

/// <summary>
/// <c>--set Key=Value</c>: any RecSys setting on the command line, over appsettings.json and the
/// RECSYS__* environment (the same precedence for every command, so <c>--set Db:Tracks:Id=id</c>
/// means the same to <c>train</c>, <c>db import</c> and <c>serve</c>).
/// </summary>
internal sealed class SettingsOption
{
    public SettingsOption(string description = "Any setting as Key=Value, e.g. --set Training:Factors=128 --set Db:Tracks:Id=id (docs/database.md)") =>
        Set = new("--set") { Description = description, AllowMultipleArgumentsPerToken = true };

    public Option<string[]> Set { get; }

    /// <summary>The settings given with --set (keys under RecSys:), plus <paramref name="more"/>.</summary>
    public Dictionary<string, string?> Overrides(ParseResult r, IEnumerable<KeyValuePair<string, string?>>? more = null)
    {
        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in more ?? [])
        {
            if (value is not null) overrides[$"{ServerOptions.Section}:{key}"] = value;
        }
        foreach (string pair in r.GetValue(Set) ?? [])
        {
            int eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw new CliException($"--set expects Key=Value, got '{pair}'");
            string key = pair[..eq];
            if (key.StartsWith(ServerOptions.Section + ":", StringComparison.OrdinalIgnoreCase)) key = key[(ServerOptions.Section.Length + 1)..];
            overrides[$"{ServerOptions.Section}:{key}"] = pair[(eq + 1)..];
        }
        return overrides;
    }

    public IConfigurationRoot Configuration(ParseResult r) => ServerConfiguration.Build(Overrides(r));

    /// <summary>The database settings: connection string (--db, else RecSys:Db / RECSYS_DB) and the schema mapping.</summary>
    public DbSettings Db(ParseResult r, string? db)
    {
        var configuration = Configuration(r);
        string? connection = !string.IsNullOrWhiteSpace(db) ? db
            : configuration[$"{ServerOptions.Section}:Db"] is { Length: > 0 } value ? value
            : configuration[$"{ServerOptions.Section}:Db:ConnectionString"];
        try
        {
            return new DbSettings(connection, ServerConfiguration.BindMapping(configuration));
        }
        catch (InvalidOperationException e)
        {
            throw new CliException(e.Message);
        }
    }
}

/// <summary>A connection string (null when none is configured) and the table and column names to use there.</summary>
internal sealed record DbSettings(string? ConnectionString, PostgresMapping Mapping)
{
    public string Require() => Sources.InteractionSources.RequireDb(ConnectionString);
}
