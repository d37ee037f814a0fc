using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace RecSys.Bench.Regress;

/// <summary>A regression run's outcome as a Markdown table for a reviewer and as JSON for tools.</summary>
public static class RegressReport
{
    /// <summary>Regression when any metric regressed, else improvement when any improved, else same.</summary>
    public static Verdict Overall(IReadOnlyList<Comparison> comparisons) =>
        comparisons.Any(c => c.Verdict == Verdict.Regression) ? Verdict.Regression
        : comparisons.Any(c => c.Verdict == Verdict.Improvement) ? Verdict.Improvement : Verdict.Same;

    public static string Markdown(IReadOnlyList<Comparison> comparisons, Unmatched? unmatched = null)
    {
        var md = new StringBuilder();
        md.AppendLine("| metric | A (median) | B (median) | B/A | 95% interval | p | verdict |");
        md.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var c in comparisons.OrderBy(c => c.Verdict == Verdict.Same).ThenBy(c => c.Metric.Name, StringComparer.Ordinal))
        {
            string unit = c.Metric.Unit.Length > 0 ? " " + c.Metric.Unit : "";
            md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {c.Metric.Name} | {c.MedianA:G5}{unit} | {c.MedianB:G5}{unit} | {c.Ratio:F3} | {c.RatioLow:F3}–{c.RatioHigh:F3} | {(c.P is { } p ? p.ToString("F4", CultureInfo.InvariantCulture) : c.Varied ? "exact, but it varied between runs" : "exact")} | **{Name(c.Verdict)}** |"));
        }
        int regressions = comparisons.Count(c => c.Verdict == Verdict.Regression), improvements = comparisons.Count(c => c.Verdict == Verdict.Improvement);
        md.AppendLine().AppendLine($"{comparisons.Count} metrics: {regressions} regressions, {improvements} improvements. Verdict: **{Name(Overall(comparisons))}**.");
        foreach (var (side, names) in new[] { ("A (baseline)", unmatched?.BaselineOnly), ("B (candidate)", unmatched?.CandidateOnly) })
        {
            if (names is { Count: > 0 }) md.AppendLine($"Measured by {side} only, not compared: {string.Join("; ", names)}.");
        }
        md.AppendLine("Times and rates: a verdict needs a one-sided Mann–Whitney U test (α 0.05) to place B beyond A moved 5%; beside \"same\", p is the test of any difference, without the 5%. \"exact\": deterministic, compared against 0.005.");
        return md.ToString();
    }

    /// <summary>
    /// <c>{"verdict", "metrics": [{"name", "baseline", "candidate", "ratio", "ci_low", "ci_high", "p_value",
    /// "verdict", …}], …}</c>: baseline and candidate are the medians; every sample is kept beside them.
    /// </summary>
    public static JsonObject Json(IReadOnlyList<Comparison> comparisons, Unmatched unmatched, IReadOnlyList<RegressRun> runs, int rounds, double seconds, string baseline) => new()
    {
        ["verdict"] = Name(Overall(comparisons)),
        ["metrics"] = new JsonArray([.. comparisons.Select(c => (JsonNode)new JsonObject
        {
            ["name"] = c.Metric.Name,
            ["baseline"] = c.MedianA,
            ["candidate"] = c.MedianB,
            ["ratio"] = Finite(c.Ratio),
            ["ci_low"] = Finite(c.RatioLow),
            ["ci_high"] = Finite(c.RatioHigh),
            ["p_value"] = c.P,
            ["verdict"] = Name(c.Verdict),
            ["unit"] = c.Metric.Unit,
            ["better"] = c.Metric.Better.ToString().ToLowerInvariant(),
            ["threshold"] = c.Metric.Threshold,
            ["relative_threshold"] = c.Metric.Relative,
            ["deterministic"] = c.Metric.Deterministic,
            ["varied"] = c.Varied,
            ["baseline_samples"] = new JsonArray([.. c.A.Select(v => (JsonNode)v)]),
            ["candidate_samples"] = new JsonArray([.. c.B.Select(v => (JsonNode)v)]),
        })]),
        ["baseline_only"] = new JsonArray([.. unmatched.BaselineOnly.Select(n => (JsonNode)n)]),
        ["candidate_only"] = new JsonArray([.. unmatched.CandidateOnly.Select(n => (JsonNode)n)]),
        ["baseline_ref"] = baseline,
        ["runs"] = new JsonArray([.. runs.Select(r => (JsonNode)r.Name)]),
        ["rounds"] = rounds,
        ["seconds"] = Math.Round(seconds, 1),
        ["regressions"] = comparisons.Count(c => c.Verdict == Verdict.Regression),
        ["improvements"] = comparisons.Count(c => c.Verdict == Verdict.Improvement),
    };

    /// <summary>A ratio over a zero median is infinite or NaN, which JSON cannot hold: null instead.</summary>
    private static double? Finite(double value) => double.IsFinite(value) ? Math.Round(value, 4) : null;

    private static string Name(Verdict verdict) => verdict.ToString().ToLowerInvariant();
}
