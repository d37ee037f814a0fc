namespace RecSys.Engine.Experiments;

/// <summary>What an arm serves: the serving model (<c>ml</c>), <c>popularity</c>, the <c>legacy</c> list, or a model version from the store (<c>model:&lt;version&gt;</c>).</summary>
public readonly record struct ArmStrategy(ArmStrategy.Kinds Kind, string? ModelVersion)
{
    public enum Kinds { Ml, Popularity, Legacy, Model }

    public const string ModelPrefix = "model:";

    /// <summary>Parses a strategy; returns null on success, else what is wrong.</summary>
    public static string? TryParse(string? text, out ArmStrategy strategy)
    {
        strategy = default;
        switch (text)
        {
            case "ml": strategy = new(Kinds.Ml, null); return null;
            case "popularity": strategy = new(Kinds.Popularity, null); return null;
            case "legacy": strategy = new(Kinds.Legacy, null); return null;
        }
        if (text is not null && text.StartsWith(ModelPrefix, StringComparison.Ordinal))
        {
            string version = text[ModelPrefix.Length..];
            if (version.Length is > 0 and <= 128 && version.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') && version is not ("." or ".."))
            {
                strategy = new(Kinds.Model, version);
                return null;
            }
            return $"'{text}' does not name a model version (model:<version>, as 'recsys model list' shows them)";
        }
        return $"'{text}' is not a strategy (ml, popularity, legacy or model:<version>)";
    }

    public static ArmStrategy Parse(string text) =>
        TryParse(text, out var strategy) is { } error ? throw new ArgumentException(error, nameof(text)) : strategy;
}
