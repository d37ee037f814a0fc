using System.Security.Cryptography;
using System.Text;

namespace RecSys.Server.Endpoints;

/// <summary>The bearer-token check of the endpoints that take one (admin, events).</summary>
internal static class BearerToken
{
    /// <summary>
    /// Whether the request's Authorization header carries <paramref name="expected"/> (compared in
    /// constant time). The scheme is case-insensitive (RFC 9110 §11.1): "bearer" is as good as "Bearer".
    /// </summary>
    public static bool Matches(HttpContext http, byte[] expected)
    {
        string? header = http.Request.Headers.Authorization;
        if (header is null || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return false;
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[7..].Trim()), expected);
    }
}
