using System.Globalization;

namespace RecSys.Server.Endpoints;

/// <summary>Parsing of path and query parameters into values or a 400 problem naming the parameter.</summary>
internal static class ApiParameters
{
    public static IResult Invalid(string parameter, string detail) => Results.Problem(
        title: "Invalid parameter",
        detail: detail,
        statusCode: StatusCodes.Status400BadRequest,
        extensions: new Dictionary<string, object?> { ["parameter"] = parameter });

    /// <summary>An id: an integer in 0..9223372036854775807.</summary>
    public static bool TryId(string? raw, string parameter, out long id, out IResult? problem)
    {
        problem = null;
        if (long.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out id)) return true;
        problem = Invalid(parameter, $"{parameter} must be an integer in 0..{long.MaxValue}, got '{Shorten(raw)}'");
        return false;
    }

    /// <summary>limit: absent = the default; otherwise an integer in 1..max.</summary>
    public static bool TryLimit(string? raw, int fallback, int max, out int limit, out IResult? problem)
    {
        problem = null;
        limit = fallback;
        if (raw is null) return true;
        if (int.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out limit) && limit >= 1 && limit <= max) return true;
        problem = Invalid("limit", $"limit must be an integer in 1..{max}, got '{Shorten(raw)}'");
        return false;
    }

    private static string Shorten(string? s) => s is null ? "" : s.Length <= 40 ? s : s[..40] + "…";
}
