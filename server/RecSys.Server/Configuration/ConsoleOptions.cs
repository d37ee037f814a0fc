namespace RecSys.Server.Configuration;

/// <summary>The web console served at / (RecSys:Console:*; docs/console.md).</summary>
public sealed class ConsoleOptions
{
    /// <summary>Off: / and /console/* answer 404, as any unknown path.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Where cover images may come from, as a Content-Security-Policy source list added to 'self'
    /// (covers live on a CDN, not on this server). Default "https:": any HTTPS host; name the CDN
    /// (https://covers.example.com) to narrow it, or leave it empty for this server only.
    /// </summary>
    public string ImageSources { get; set; } = "https:";

    public List<string> Validate()
    {
        var problems = new List<string>();
        foreach (string source in ImageSources.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            // A CSP source is one token of printable ASCII (a header value); quotes, semicolons and commas would end or inject directives.
            if (source.IndexOfAny([';', ',', '\'', '"']) >= 0 || source.Any(c => c is < '!' or > '~'))
            {
                problems.Add($"RecSys:Console:ImageSources: '{source}' is not a CSP source (a scheme like https:, or a host like https://covers.example.com)");
            }
        }
        return problems;
    }
}
