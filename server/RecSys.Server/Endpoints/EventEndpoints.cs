using System.Buffers;
using System.Buffers.Text;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json.Nodes;
using RecSys.Engine.Events;
using RecSys.Server.Configuration;
using RecSys.Server.Events;

namespace RecSys.Server.Endpoints;

/// <summary>
/// POST /events/plays: a JSON array (or NDJSON) of plays, validated whole, stored durably, then 202.
/// A batch with any bad event is refused whole (400, every bad event listed) and nothing of it is
/// stored; a retried batch is stored once (event ids).
/// </summary>
internal static class EventEndpoints
{
    /// <summary>Bad events listed in a 400, at most (the count says how many there were).</summary>
    private const int ListedErrors = 100;

    public static void Map(WebApplication app)
    {
        var ingest = app.Services.GetRequiredService<EventIngest>();
        var options = app.Services.GetRequiredService<ServerOptions>();
        var time = app.Services.GetRequiredService<TimeProvider>();
        byte[]? token = string.IsNullOrEmpty(options.Events.Token) ? null : Encoding.UTF8.GetBytes(options.Events.Token);
        // Bytes of event bodies being received now by this server.
        var inFlight = new System.Runtime.CompilerServices.StrongBox<long>();
        app.MapPost("/events/plays", (Func<HttpContext, Task<IResult>>)(http => PostAsync(http, ingest, options.Events, time, token, inFlight)))
            .WithName("PlayEvents")
            .WithSummary("Play events (JSON array, or NDJSON with Content-Type: application/x-ndjson); 202 once stored");
    }

    private static async Task<IResult> PostAsync(
        HttpContext http, EventIngest ingest, EventOptions limits, TimeProvider time, byte[]? token, System.Runtime.CompilerServices.StrongBox<long> inFlight)
    {
        if (token is not null && !BearerToken.Matches(http, token))
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return Results.Problem(title: "Unauthorized", detail: "a valid 'Authorization: Bearer <token>' header is required (RecSys:Events:Token)",
                statusCode: StatusCodes.Status401Unauthorized);
        }
        bool ndjson;
        string? type = http.Request.ContentType;
        if (type is null || type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase)) ndjson = false;
        else if (type.StartsWith("application/x-ndjson", StringComparison.OrdinalIgnoreCase)
            || type.StartsWith("application/jsonl", StringComparison.OrdinalIgnoreCase)) ndjson = true;
        else
        {
            return Results.Problem(title: "Unsupported media type",
                detail: $"Content-Type '{type}': send application/json (an array of events) or application/x-ndjson (one event a line)",
                statusCode: StatusCodes.Status415UnsupportedMediaType);
        }
        long maxBytes = (long)limits.MaxBodyKilobytes * 1024;
        if (http.Request.ContentLength > maxBytes)
        {
            return TooLarge($"the body has {http.Request.ContentLength} bytes; at most {maxBytes} are accepted (RecSys:Events:MaxBodyKilobytes)");
        }

        // Reserved before the body is read: bodies in flight are what the queue limit cannot see.
        long reserved = http.Request.ContentLength ?? maxBytes;
        long budget = (long)limits.BodiesInFlightKilobytes * 1024;
        if (Interlocked.Add(ref inFlight.Value, reserved) > budget)
        {
            Interlocked.Add(ref inFlight.Value, -reserved);
            return Unavailable(http, "the server is receiving as many event bodies as it can hold; retry after a second");
        }
        try
        {
            return await ReceiveAsync(http, ingest, limits, time, maxBytes, ndjson);
        }
        finally
        {
            Interlocked.Add(ref inFlight.Value, -reserved);
        }
    }

    private static async Task<IResult> ReceiveAsync(HttpContext http, EventIngest ingest, EventOptions limits, TimeProvider time, long maxBytes, bool ndjson)
    {
        var reader = http.Request.BodyReader;
        ReadResult read;
        while (true)
        {
            read = await reader.ReadAsync(http.RequestAborted);
            if (read.Buffer.Length > maxBytes)
            {
                reader.AdvanceTo(read.Buffer.End);
                return TooLarge($"the body has more than {maxBytes} bytes (RecSys:Events:MaxBodyKilobytes)");
            }
            if (read.IsCompleted) break;
            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }
        PlayEventBatch batch;
        try
        {
            var now = time.GetUtcNow().UtcDateTime;
            batch = ndjson ? PlayEventParser.ParseNdjson(read.Buffer, now, limits.MaxBatch) : PlayEventParser.ParseArray(read.Buffer, now, limits.MaxBatch);
        }
        finally
        {
            reader.AdvanceTo(read.Buffer.End);
        }
        if (batch.TooMany) return TooLarge($"more than {limits.MaxBatch} events in one request (RecSys:Events:MaxBatch); send smaller batches");
        if (batch.SyntaxError is { } syntax)
        {
            return Results.Problem(title: "Malformed play events", detail: $"{syntax}; nothing was stored", statusCode: StatusCodes.Status400BadRequest);
        }
        if (batch.ErrorCount > 0) return Invalid(batch);

        var stored = ingest.TrySubmit(batch.Events);
        if (stored is null) return Unavailable(http, "the server is storing as many events as it can hold; retry after a second (a retried event is stored once)");
        IngestResult result;
        try
        {
            result = await stored;
        }
        catch (EventStoreException e)
        {
            return Unavailable(http, $"the events could not be stored ({e.Message}); nothing of the batch was, retry");
        }
        return Accepted(http, batch.Events.Count, result);
    }

    /// <summary>202 with {"accepted","stored","duplicates"}, sized (no chunked encoding for a few bytes).</summary>
    private static IResult Accepted(HttpContext http, int accepted, IngestResult result)
    {
        Span<byte> body = stackalloc byte[96];
        int length = 0;
        void Append(ReadOnlySpan<byte> bytes, Span<byte> into, ref int at)
        {
            bytes.CopyTo(into[at..]);
            at += bytes.Length;
        }
        void Number(int value, Span<byte> into, ref int at)
        {
            Utf8Formatter.TryFormat(value, into[at..], out int digits);
            at += digits;
        }
        Append("{\"accepted\":"u8, body, ref length);
        Number(accepted, body, ref length);
        Append(",\"stored\":"u8, body, ref length);
        Number(result.Stored, body, ref length);
        Append(",\"duplicates\":"u8, body, ref length);
        Number(result.Duplicates, body, ref length);
        Append("}"u8, body, ref length);
        var response = http.Response;
        response.StatusCode = StatusCodes.Status202Accepted;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = length;
        response.BodyWriter.Write(body[..length]);
        return Results.Empty;
    }

    private static IResult Invalid(PlayEventBatch batch)
    {
        var errors = new JsonArray();
        foreach (var e in batch.Errors.Take(ListedErrors))
        {
            var error = new JsonObject { ["index"] = e.Index, ["field"] = e.Field, ["reason"] = e.Reason };
            if (e.Line is { } line) error["line"] = line;
            errors.Add(error);
        }
        int bad = batch.Errors.Select(e => e.Index).Distinct().Count();
        string events = batch.ErrorCount > batch.Errors.Count ? $"at least {bad} event(s)" : $"{bad} event(s)";
        return Results.Problem(title: "Invalid play events",
            detail: $"{events} invalid ({batch.ErrorCount} problem(s)); nothing of the batch was stored",
            statusCode: StatusCodes.Status400BadRequest,
            extensions: new Dictionary<string, object?> { ["errors"] = errors, ["errors_total"] = batch.ErrorCount });
    }

    private static IResult TooLarge(string detail) =>
        Results.Problem(title: "Batch too large", detail: detail + "; nothing was stored", statusCode: StatusCodes.Status413PayloadTooLarge);

    private static IResult Unavailable(HttpContext http, string detail)
    {
        http.Response.Headers.RetryAfter = "1";
        return Results.Problem(title: "Events not stored", detail: detail, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}
