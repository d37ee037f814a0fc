namespace RecSys.Engine.Data;

/// <summary>What a source produced: the rows, where they came from, and how many rows were skipped as malformed.</summary>
/// <param name="Table">The interactions, one row per input row (duplicates are merged later by the matrix builder).</param>
/// <param name="Source">A human-readable name of the source (file path, "postgres", "demo").</param>
/// <param name="SkippedRows">Rows skipped because they were malformed (only with skip-bad-rows).</param>
/// <param name="SkippedExamples">The first few skipped rows, for the report.</param>
public sealed record InteractionData(
    InteractionTable Table,
    string Source,
    long SkippedRows = 0,
    IReadOnlyList<string>? SkippedExamples = null);
