using System.CommandLine;
using System.Text.Json;
using RecSys.Engine.Sparse;

namespace RecSys.Server.Cli;

/// <summary><c>recsys data stats</c>: what a source holds after duplicate merging.</summary>
internal static class DataCommands
{
    public static Command Create()
    {
        var stats = new Command("stats", "Count users, items and distinct interactions of a source");
        var input = new InputOptions();
        input.AddTo(stats);
        var json = CliOptions.Json();
        stats.Options.Add(json);
        stats.SetAction(async (r, ct) =>
        {
            var data = await input.LoadAsync(r, ct);
            var matrix = InteractionMatrix.Build(data.Table);
            // An empty source is almost always a wrong path, table or filter: say so, with a failing exit code.
            if (matrix.Nnz == 0) throw new CliException($"{data.Source} holds no interactions");
            if (r.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    users = matrix.Users.Count,
                    items = matrix.Items.Count,
                    interactions = (long)matrix.Nnz,
                    skipped_rows = data.SkippedRows,
                }));
            }
            else
            {
                Console.WriteLine($"source:        {data.Source}");
                Console.WriteLine($"rows:          {data.Table.Count:N0}");
                Console.WriteLine($"users:         {matrix.Users.Count:N0}");
                Console.WriteLine($"items:         {matrix.Items.Count:N0}");
                Console.WriteLine($"interactions:  {matrix.Nnz:N0} (distinct user-item pairs)");
                Console.WriteLine($"skipped rows:  {data.SkippedRows:N0}");
            }
            return 0;
        });
        var data = new Command("data", "Inspect interaction data");
        data.Subcommands.Add(stats);
        return data;
    }
}
