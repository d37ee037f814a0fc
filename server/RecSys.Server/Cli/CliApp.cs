using System.CommandLine;
using Npgsql;
using RecSys.Engine.Data;
using RecSys.Engine.Model;

namespace RecSys.Server.Cli;

/// <summary>The <c>recsys</c> command line: one root command, a subcommand per job.</summary>
internal static class CliApp
{
    public static RootCommand Build()
    {
        var root = new RootCommand("RecSys: implicit-feedback music recommendations (ALS + HNSW) served over HTTP");
        root.Subcommands.Add(DataCommands.Create());
        root.Subcommands.Add(DbCommands.Create());
        root.Subcommands.Add(ModelCommands.Create());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(RecommendCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(TuneCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(AbCommands.Create());
        return root;
    }

    /// <summary>What a bare <c>./recsys</c> runs: the server, on the embedded demo data unless configured otherwise.</summary>
    public static readonly string[] MainJob = ["serve"];

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0)
        {
            args = MainJob;
        }
        var root = Build();
        var parsed = root.Parse(args);
        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (IsUserError(e))
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    private static bool IsUserError(Exception e) => e is CliException or DataFormatException or ModelFormatException
        or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException
        or ArgumentException or NpgsqlException or InvalidOperationException or IOException or OperationCanceledException;
}
