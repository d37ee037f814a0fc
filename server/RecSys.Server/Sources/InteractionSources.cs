using RecSys.Engine.Data;

namespace RecSys.Server.Sources;

/// <summary>
/// Resolves an input name to interactions: "demo" (the seeded demo catalog), "db"/"postgres" (the
/// interactions table), or a delimited file. Shared by the command line and the server's training.
/// </summary>
internal static class InteractionSources
{
    public static async Task<InteractionData> LoadAsync(
        string input, DelimitedFormat format, bool skipBadRows, string? db, PostgresMapping mapping, DemoOptions demo, CancellationToken cancellationToken)
    {
        switch (input)
        {
            case "demo":
                return DemoCatalog.Generate(demo).ToInteractions();
            case "db":
            case "postgres":
                var rows = await new PostgresInteractionSource(RequireDb(db), mapping).ReadAsync(cancellationToken);
                Report(rows, "(user, track) pair(s) with a NULL or fractional id");
                return rows;
            default:
                var data = new DelimitedFileReader(input, format, skipBadRows).Read(cancellationToken);
                Report(data, "malformed row(s)");
                return data;
        }
    }

    public static bool IsDatabase(string input) => input is "db" or "postgres";

    private static void Report(InteractionData data, string what)
    {
        if (data.SkippedRows == 0) return;
        Console.Error.WriteLine($"warning: skipped {data.SkippedRows} {what} in {data.Source}");
        foreach (string example in data.SkippedExamples ?? [])
        {
            Console.Error.WriteLine($"  {example}");
        }
    }

    /// <summary>The connection string given, else RECSYS_DB; a clear error when neither is set.</summary>
    public static string RequireDb(string? db) =>
        !string.IsNullOrWhiteSpace(db) ? db
        : Environment.GetEnvironmentVariable("RECSYS_DB") is { Length: > 0 } env ? env
        : throw new InvalidOperationException("No database configured: pass --db \"Host=...;Database=...\" or set RECSYS_DB.");
}
