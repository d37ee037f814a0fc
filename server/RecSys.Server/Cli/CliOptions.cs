using System.CommandLine;
using RecSys.Engine.Data;

namespace RecSys.Server.Cli;

/// <summary>Options shared by several commands, defined once so every command spells them the same.</summary>
internal static class CliOptions
{
    public static Option<string> Input(bool required = true) => new("--input", "-i")
    {
        Description = "Interaction source: a delimited file, 'demo' (the generated catalog) or 'db' (PostgreSQL interactions table)",
        Required = required,
    };

    public static Option<string> Format() => new("--format")
    {
        Description = "File format: auto, lastfm, movielens, movielens-csv, csv, tsv",
        DefaultValueFactory = _ => "auto",
    };

    public static Option<bool> SkipBadRows() => new("--skip-bad-rows")
    {
        Description = "Skip malformed rows (and report how many) instead of failing on the first one",
    };

    public static Option<bool> Json() => new("--json") { Description = "Print a JSON object instead of text" };

    public static Option<string?> Db() => new("--db")
    {
        Description = "PostgreSQL connection string (default: the RECSYS_DB environment variable)",
    };

    public static Option<int> DemoUsers() => new("--demo-users") { Description = "Demo catalog: users", DefaultValueFactory = _ => new DemoOptions().Users };
    public static Option<int> DemoTracks() => new("--demo-tracks") { Description = "Demo catalog: tracks", DefaultValueFactory = _ => new DemoOptions().Tracks };
    public static Option<long> DemoPlays() => new("--demo-plays") { Description = "Demo catalog: plays (about)", DefaultValueFactory = _ => new DemoOptions().Plays };
    public static Option<ulong> DemoSeed() => new("--demo-seed") { Description = "Demo catalog: seed", DefaultValueFactory = _ => new DemoOptions().Seed };
}

/// <summary>A user-facing error: printed as one line on stderr, exit code 1.</summary>
internal sealed class CliException(string message) : Exception(message);
