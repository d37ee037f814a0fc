using RecSys.Engine.Data;

namespace RecSys.Server.Sources;

/// <summary>
/// Resolves an input name to interactions: "demo" (the seeded demo catalog), "db"/"postgres" (the
/// interactions table), or a delimited file. Shared by the command line and the server's training.
/// </summary>
internal static class InteractionSources
{
    public static async Task<InteractionData> LoadAsync(
        string input, DelimitedFormat format, bool skipBadRows, string? db, DemoOptions demo, CancellationToken cancellationToken)
    {
        switch (input)
        {
            case "demo":
                return DemoCatalog.Generate(demo).ToInteractions();
            case "db":
            case "postgres":
                return await new PostgresInteractionSource(RequireDb(db)).ReadAsync(cancellationToken);
            default:
                var data = new DelimitedFileReader(input, format, skipBadRows).Read(cancellationToken);
                if (data.SkippedRows > 0)
                {
                    Console.Error.WriteLine($"warning: skipped {data.SkippedRows} malformed row(s) in {input}");
                    foreach (string example in data.SkippedExamples ?? [])
                    {
                        Console.Error.WriteLine($"  {example}");
                    }
                }
                return data;
        }
    }

    /// <summary>The connection string given, else RECSYS_DB; a clear error when neither is set.</summary>
    public static string RequireDb(string? db) =>
        !string.IsNullOrWhiteSpace(db) ? db
        : Environment.GetEnvironmentVariable("RECSYS_DB") is { Length: > 0 } env ? env
        : throw new InvalidOperationException("No database configured: pass --db \"Host=...;Database=...\" or set RECSYS_DB.");
}
