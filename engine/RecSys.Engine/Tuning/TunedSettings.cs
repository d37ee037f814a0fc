using System.Globalization;
using System.Text.Json.Nodes;
using RecSys.Engine.Als;
using RecSys.Engine.Sparse;

namespace RecSys.Engine.Tuning;

/// <summary>
/// The settings a tuning chose, as JSON (the <c>tuned</c> object of <c>train --json</c>, <c>eval --json</c>
/// and a model version's manifest) and back, so a later training can reuse them without searching again.
/// </summary>
public static class TunedSettings
{
    /// <summary>The settings a search varies, as <see cref="Apply"/> reads them back.</summary>
    public static JsonObject Settings(AlsOptions o) => new()
    {
        ["factors"] = o.Factors,
        ["regularization"] = o.Regularization,
        ["reg_exponent"] = o.RegularizationExponent,
        ["reg_offset"] = o.RegularizationOffset,
        ["unobserved_weight"] = o.UnobservedWeight,
        ["alpha"] = o.Alpha,
        ["scaling"] = o.Scaling.ToString().ToLowerInvariant(),
        ["bm25"] = o.Bm25,
        ["bm25_k1"] = o.Bm25K1,
        ["bm25_b"] = o.Bm25B,
    };

    /// <summary>The chosen settings and how the search got there.</summary>
    public static JsonObject ToJson(TuningResult result, int k)
    {
        var json = Settings(result.Best);
        json[$"validation_ndcg@{k}"] = Math.Round(result.ValidationNdcg, 6);
        json["validation_iterations"] = result.ValidationIterations;
        json["trainings"] = result.Trials.Count;
        json["seconds"] = Math.Round(result.Seconds, 2);
        json["budget_seconds"] = Math.Round(result.BudgetSeconds, 2);
        json["budget_reached"] = result.BudgetReached;
        return json;
    }

    /// <summary><paramref name="baseOptions"/> with the settings of a <c>tuned</c> object; null when it lacks one or holds an invalid value.</summary>
    public static AlsOptions? Apply(JsonObject? tuned, AlsOptions baseOptions)
    {
        if (tuned is null) return null;
        try
        {
            var options = baseOptions with
            {
                Factors = tuned["factors"]!.GetValue<int>(),
                Regularization = tuned["regularization"]!.GetValue<float>(),
                RegularizationExponent = tuned["reg_exponent"]!.GetValue<float>(),
                RegularizationOffset = tuned["reg_offset"]!.GetValue<float>(),
                UnobservedWeight = tuned["unobserved_weight"]!.GetValue<float>(),
                Alpha = tuned["alpha"]!.GetValue<float>(),
                Scaling = Confidence.ParseScaling(tuned["scaling"]!.GetValue<string>()),
                Bm25 = tuned["bm25"]!.GetValue<bool>(),
                Bm25K1 = tuned["bm25_k1"]?.GetValue<float>() ?? baseOptions.Bm25K1,
                Bm25B = tuned["bm25_b"]?.GetValue<float>() ?? baseOptions.Bm25B,
            };
            options.Validate();
            return options;
        }
        catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>A number of the tuned object as a double (null when absent).</summary>
    public static double? Number(JsonObject? tuned, string name) => tuned?[name] switch
    {
        // Parsed from a file the value reads as any number type; built in memory only as its own.
        JsonValue v when v.TryGetValue(out double d) => d,
        JsonValue v when v.TryGetValue(out long l) => l,
        JsonValue v when v.TryGetValue(out int i) => i,
        _ => null,
    };

    /// <summary>When the tuning ran (the manifest's <c>tuned_at</c>), null when unknown.</summary>
    public static DateTime? TunedAt(JsonObject? tuned) =>
        tuned?["tuned_at"] is JsonValue v && v.TryGetValue(out string? s) && DateTime.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at) ? at.ToUniversalTime() : null;
}
