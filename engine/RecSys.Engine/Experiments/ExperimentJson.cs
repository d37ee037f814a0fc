using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RecSys.Engine.Experiments;

/// <summary>
/// An experiment definition as JSON (the admin API's body, the stores' format). Strict: an unknown
/// field, a wrong type or an invalid value is an error naming the field, never a silent default.
/// </summary>
public static class ExperimentJson
{
    private static readonly HashSet<string> Fields =
        ["id", "salt", "arms", "endpoints", "layer", "start", "stop", "attribution_window_hours", "exposure_sample", "covariate_days", "overrides", "version", "created"];

    /// <summary>Reads a definition; throws <see cref="FormatException"/> listing every problem.</summary>
    public static ExperimentDefinition Parse(string json)
    {
        JsonNode? root;
        try
        {
            // Duplicate properties refused at parse: JsonObject would otherwise throw on them later.
            root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = 16, AllowDuplicateProperties = false });
        }
        catch (JsonException e)
        {
            throw new FormatException($"the body is not JSON: {e.Message}");
        }
        if (root is not JsonObject o) throw new FormatException("an experiment is a JSON object");
        var problems = new List<string>();
        foreach (var (name, _) in o)
        {
            if (!Fields.Contains(name)) problems.Add($"unknown field '{name}'");
        }
        string id = Text(o, "id", problems, required: true) ?? "";
        string salt = Text(o, "salt", problems, required: false) ?? id;
        var arms = new List<ExperimentArm>();
        if (o["arms"] is JsonArray array)
        {
            for (int i = 0; i < array.Count; i++)
            {
                if (array[i] is not JsonObject arm)
                {
                    problems.Add($"arms[{i}] must be an object");
                    continue;
                }
                foreach (var (name, _) in arm)
                {
                    if (name is not ("name" or "weight" or "strategy" or "exclude_heard")) problems.Add($"arms[{i}]: unknown field '{name}'");
                }
                arms.Add(new ExperimentArm(
                    Text(arm, "name", problems, required: true, prefix: $"arms[{i}].") ?? "",
                    Number(arm, "weight", problems, prefix: $"arms[{i}].") ?? 1,
                    Text(arm, "strategy", problems, required: true, prefix: $"arms[{i}].") ?? "",
                    Boolean(arm, "exclude_heard", problems, prefix: $"arms[{i}].") ?? true));
            }
        }
        else problems.Add("arms must be an array of {\"name\",\"weight\",\"strategy\"}");
        var endpoints = new List<string>();
        if (o["endpoints"] is JsonArray list)
        {
            foreach (var item in list)
            {
                if (item is JsonValue v && v.TryGetValue(out string? e)) endpoints.Add(e);
                else problems.Add("endpoints must be an array of strings");
            }
        }
        else if (o.ContainsKey("endpoints")) problems.Add("endpoints must be an array of strings");
        else endpoints.Add(ExperimentDefinition.PersonalEndpoint);
        double from = 0, to = 100;
        if (o["layer"] is JsonObject layer)
        {
            foreach (var (name, _) in layer)
            {
                if (name is not ("from" or "to")) problems.Add($"layer: unknown field '{name}'");
            }
            from = Number(layer, "from", problems, prefix: "layer.") ?? 0;
            to = Number(layer, "to", problems, prefix: "layer.") ?? 100;
        }
        else if (o.ContainsKey("layer")) problems.Add("layer must be an object {\"from\",\"to\"} in percent");
        var overrides = new Dictionary<long, string>();
        if (o["overrides"] is JsonObject forced)
        {
            foreach (var (user, arm) in forced)
            {
                if (!long.TryParse(user, NumberStyles.None, CultureInfo.InvariantCulture, out long userId)) problems.Add($"overrides: '{user}' is not a user id");
                else if (arm is JsonValue v && v.TryGetValue(out string? name)) overrides[userId] = name;
                else problems.Add($"overrides: user {user} must map to an arm name");
            }
        }
        else if (o.ContainsKey("overrides")) problems.Add("overrides must be an object {\"<user id>\": \"<arm>\"}");
        var definition = new ExperimentDefinition
        {
            Id = id,
            Salt = salt,
            Arms = arms,
            Endpoints = endpoints,
            LayerFrom = from,
            LayerTo = to,
            StartUtc = Time(o, "start", problems),
            StopUtc = Time(o, "stop", problems),
            AttributionWindowHours = Number(o, "attribution_window_hours", problems) ?? 24,
            ExposureSample = Number(o, "exposure_sample", problems) ?? 1,
            CovariateDays = (int)(Number(o, "covariate_days", problems, integer: true) ?? 28),
            Overrides = overrides,
            Version = (int)(Number(o, "version", problems, integer: true) ?? 0),
            CreatedUtc = Time(o, "created", problems) ?? default,
        };
        if (problems.Count == 0) problems.AddRange(definition.Validate());
        if (problems.Count > 0) throw new FormatException(string.Join("; ", problems));
        return definition;
    }

    public static JsonObject ToJson(ExperimentDefinition d) => new()
    {
        ["id"] = d.Id,
        ["version"] = d.Version,
        ["salt"] = d.Salt,
        ["arms"] = new JsonArray([.. d.Arms.Select(a => (JsonNode)new JsonObject { ["name"] = a.Name, ["weight"] = a.Weight, ["strategy"] = a.Strategy, ["exclude_heard"] = a.ExcludeHeard })]),
        ["endpoints"] = new JsonArray([.. d.Endpoints.Select(e => (JsonNode)JsonValue.Create(e))]),
        ["layer"] = new JsonObject { ["from"] = d.LayerFrom, ["to"] = d.LayerTo },
        ["start"] = d.StartUtc is { } start ? Iso(start) : null,
        ["stop"] = d.StopUtc is { } stop ? Iso(stop) : null,
        ["attribution_window_hours"] = d.AttributionWindowHours,
        ["exposure_sample"] = d.ExposureSample,
        ["covariate_days"] = d.CovariateDays,
        ["overrides"] = new JsonObject([.. d.Overrides.OrderBy(o => o.Key).Select(o => KeyValuePair.Create(o.Key.ToString(CultureInfo.InvariantCulture), (JsonNode?)o.Value))]),
        ["created"] = d.CreatedUtc == default ? null : Iso(d.CreatedUtc),
    };

    /// <summary>A UTC time as ISO 8601 with its zone (Z), whatever kind the DateTime carries.</summary>
    public static string Iso(DateTime utc) => DateTime.SpecifyKind(utc, DateTimeKind.Utc).ToString("O", CultureInfo.InvariantCulture);

    private static string? Text(JsonObject o, string name, List<string> problems, bool required, string prefix = "")
    {
        var node = o[name];
        if (node is null)
        {
            if (required) problems.Add($"{prefix}{name} is required");
            return null;
        }
        if (node is JsonValue v && v.TryGetValue(out string? text)) return text;
        problems.Add($"{prefix}{name} must be a string");
        return null;
    }

    private static double? Number(JsonObject o, string name, List<string> problems, string prefix = "", bool integer = false)
    {
        var node = o[name];
        if (node is null) return null;
        static bool Whole(double n) => n == Math.Floor(n) && Math.Abs(n) < int.MaxValue;
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out double number) && double.IsFinite(number) && (!integer || Whole(number)))
        {
            return number;
        }
        problems.Add($"{prefix}{name} must be {(integer ? "an integer" : "a number")}");
        return null;
    }

    private static bool? Boolean(JsonObject o, string name, List<string> problems, string prefix = "")
    {
        var node = o[name];
        if (node is null) return null;
        if (node is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False) return v.GetValue<bool>();
        problems.Add($"{prefix}{name} must be true or false");
        return null;
    }

    private static DateTime? Time(JsonObject o, string name, List<string> problems)
    {
        var node = o[name];
        if (node is null) return null;
        if (node is JsonValue v && v.TryGetValue(out string? text) && HasZone(text)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var time))
        {
            if (time.Year is >= 2000 and < 2100) return time.UtcDateTime;
            problems.Add($"{name} must be between 2000 and 2100 (got {text})");
            return null;
        }
        problems.Add($"{name} must be a time with its zone (ISO 8601, e.g. 2026-12-01T00:00:00Z)");
        return null;
    }

    /// <summary>A date, 'T', a time, then Z or an offset: a time without a zone would be read in the server's own.</summary>
    private static bool HasZone(string text)
    {
        int t = text.IndexOf('T');
        return t > 0 && (text.EndsWith('Z') || text.IndexOfAny(['+', '-'], t) > t);
    }
}
