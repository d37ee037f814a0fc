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

    /// <summary>
    /// The query's limit as a string handler parameter receives it (several values joined by commas,
    /// null when absent). The usual query, none or exactly <c>?limit=</c> and digits, is read from the
    /// request line; anything else goes through the request's query collection, which costs four
    /// allocations a request to build.
    /// </summary>
    public static string? LimitQuery(HttpRequest request)
    {
        const string Plain = "?limit=";
        string? query = request.QueryString.Value;
        if (string.IsNullOrEmpty(query)) return null;
        if (query.Length > Plain.Length && query.Length <= Plain.Length + 9 && query.StartsWith(Plain, StringComparison.Ordinal)
            && !query.AsSpan(Plain.Length).ContainsAnyExceptInRange('0', '9'))
        {
            return query[Plain.Length..];
        }
        var values = request.Query["limit"];
        return values.Count == 0 ? null : values.ToString();
    }

    /// <summary>Documents the optional <c>limit</c> query parameter (read by <see cref="LimitQuery"/>, not bound by the framework).</summary>
    public static RouteHandlerBuilder WithLimit(this RouteHandlerBuilder endpoint, int fallback) =>
        endpoint.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new Microsoft.OpenApi.OpenApiParameter
            {
                Name = "limit",
                In = Microsoft.OpenApi.ParameterLocation.Query,
                Required = false,
                Description = $"How many tracks (default {fallback}, at most RecSys:MaxLimit)",
                Schema = new Microsoft.OpenApi.OpenApiSchema { Type = Microsoft.OpenApi.JsonSchemaType.Integer, Format = "int32" },
            });
            return Task.CompletedTask;
        });

    /// <summary>offset: absent = 0; otherwise an integer in 0..int.MaxValue.</summary>
    public static bool TryOffset(string? raw, out int offset, out IResult? problem)
    {
        problem = null;
        offset = 0;
        if (raw is null) return true;
        if (int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out offset)) return true;
        problem = Invalid("offset", $"offset must be an integer in 0..{int.MaxValue}, got '{Shorten(raw)}'");
        return false;
    }

    /// <summary>A value quoted in an error, cut to 40 characters.</summary>
    internal static string Shorten(string? s) => s is null ? "" : s.Length <= 40 ? s : s[..40] + "…";
}
