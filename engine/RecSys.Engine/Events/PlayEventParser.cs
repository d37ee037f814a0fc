using System.Buffers;
using System.Text;
using System.Text.Json;

namespace RecSys.Engine.Events;

/// <summary>
/// Reads play events from a request body — a JSON array of objects, or NDJSON (one object a line) —
/// straight from the received bytes, and validates every field of every event. Strict on purpose: an
/// unknown field (a typo such as "is_complete") is an error rather than a play silently stored as not
/// completed. <c>played_at</c> is optional (the server's time then) but must carry a time zone.
/// </summary>
public static class PlayEventParser
{
    /// <summary>How far ahead of the server's clock a played_at may be (clients' clocks drift).</summary>
    public static readonly TimeSpan FutureTolerance = TimeSpan.FromDays(1);

    private static readonly DateTime Earliest = DateTime.UnixEpoch;

    private static readonly JsonReaderOptions ReaderOptions = new() { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 16 };

    /// <summary>Errors kept per batch (the rest are only counted): a body of nothing but bad fields must not become millions of records.</summary>
    public const int MaxErrors = 1000;

    /// <summary>A JSON array of event objects.</summary>
    public static PlayEventBatch ParseArray(ReadOnlySequence<byte> body, DateTime nowUtc, int maxEvents)
    {
        var batch = new PlayEventBatch();
        if (IsBlank(body))
        {
            batch.SyntaxError = "the body is empty: send a JSON array of play events";
            return batch;
        }
        var reader = new Utf8JsonReader(body, ReaderOptions);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
            {
                batch.SyntaxError = "the body must be a JSON array of play events (or NDJSON with Content-Type: application/x-ndjson)";
                return batch;
            }
            int index = 0;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (index == maxEvents)
                {
                    batch.TooMany = true;
                    return batch;
                }
                ReadEvent(ref reader, index++, null, nowUtc, batch);
            }
            // Anything after the array makes this read throw (the reader knows the body is whole).
            reader.Read();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            batch.SyntaxError = e is JsonException j
                ? $"malformed JSON at line {j.LineNumber + 1}, byte {j.BytePositionInLine + 1} of that line: {Plain(j.Message)}"
                : $"malformed JSON: {e.Message}";
        }
        return batch;
    }

    /// <summary>NDJSON: one event object a line; blank lines are skipped, a malformed line is that event's error.</summary>
    public static PlayEventBatch ParseNdjson(ReadOnlySequence<byte> body, DateTime nowUtc, int maxEvents)
    {
        var batch = new PlayEventBatch();
        var rest = body;
        int index = 0, line = 0;
        while (!rest.IsEmpty)
        {
            line++;
            var end = rest.PositionOf((byte)'\n');
            var text = end is { } at ? rest.Slice(0, at) : rest;
            rest = end is { } next ? rest.Slice(rest.GetPosition(1, next)) : default;
            if (IsBlank(text)) continue;
            if (index == maxEvents)
            {
                batch.TooMany = true;
                return batch;
            }
            var reader = new Utf8JsonReader(text, ReaderOptions);
            int eventsBefore = batch.Events.Count;
            try
            {
                reader.Read();
                ReadEvent(ref reader, index, line, nowUtc, batch);
                // Anything after the object on its line makes this read throw.
                reader.Read();
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException)
            {
                if (batch.Events.Count > eventsBefore) batch.Events.RemoveAt(eventsBefore);
                batch.AddError(new PlayEventError(index, "", e is JsonException j ? $"malformed JSON at byte {j.BytePositionInLine + 1}: {Plain(j.Message)}" : $"malformed JSON: {e.Message}", line));
            }
            index++;
        }
        return batch;
    }

    private static bool IsBlank(ReadOnlySequence<byte> text)
    {
        foreach (var segment in text)
        {
            foreach (byte b in segment.Span)
            {
                if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')) return false;
            }
        }
        return true;
    }

    [Flags]
    private enum Seen
    {
        None = 0,
        EventId = 1,
        UserId = 2,
        TrackId = 4,
        Milestone = 8,
        IsCompleted = 16,
        PlayedAt = 32,
    }

    /// <summary>Reads one event object (the reader on its first token), adding it or its errors to the batch.</summary>
    private static void ReadEvent(ref Utf8JsonReader reader, int index, int? line, DateTime nowUtc, PlayEventBatch batch)
    {
        int errorsBefore = batch.ErrorCount;
        void Fail(string field, string reason) => batch.AddError(new PlayEventError(index, field, reason, line));
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            Fail("", $"an event must be a JSON object, not {Describe(reader.TokenType)}");
            reader.Skip();
            return;
        }
        string? eventId = null;
        long user = 0, track = 0;
        int milestone = 0;
        bool completed = false;
        DateTime playedAt = nowUtc;
        var seen = Seen.None;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var field = FieldOf(ref reader, out string name);
            reader.Read();
            if (field == Seen.None)
            {
                Fail(name, "unknown field (expected event_id, user_id, track_id, milestone, is_completed, played_at)");
                reader.Skip();
                continue;
            }
            if ((seen & field) != 0)
            {
                Fail(name, "appears twice");
                reader.Skip();
                continue;
            }
            seen |= field;
            switch (field)
            {
                case Seen.EventId:
                    eventId = ReadEventId(ref reader, out string? idError);
                    if (idError is not null) Fail(name, idError);
                    break;
                case Seen.UserId:
                    if (!TryId(ref reader, out user, out string? userError)) Fail(name, userError!);
                    break;
                case Seen.TrackId:
                    if (!TryId(ref reader, out track, out string? trackError)) Fail(name, trackError!);
                    break;
                case Seen.Milestone:
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out milestone) || milestone is < 0 or > 100)
                    {
                        Fail(name, $"must be a whole number in 0..100 (got {Shown(ref reader)})");
                    }
                    break;
                case Seen.IsCompleted:
                    if (reader.TokenType is JsonTokenType.True or JsonTokenType.False) completed = reader.GetBoolean();
                    else Fail(name, $"must be true or false (got {Shown(ref reader)})");
                    break;
                case Seen.PlayedAt:
                    if (reader.TokenType == JsonTokenType.Null) break;
                    if (ReadTime(ref reader, nowUtc, out playedAt) is { } timeError) Fail(name, timeError);
                    break;
            }
            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) reader.Skip();
        }
        foreach (var (flag, name) in Required)
        {
            if ((seen & flag) == 0) Fail(name, "missing");
        }
        if (batch.ErrorCount == errorsBefore) batch.Events.Add(new PlayEvent(eventId!, user, track, milestone, completed, playedAt));
    }

    private static readonly (Seen Flag, string Name)[] Required =
    [
        (Seen.EventId, "event_id"), (Seen.UserId, "user_id"), (Seen.TrackId, "track_id"), (Seen.Milestone, "milestone"), (Seen.IsCompleted, "is_completed"),
    ];

    private static Seen FieldOf(ref Utf8JsonReader reader, out string name)
    {
        foreach (var (flag, known, utf8) in Fields)
        {
            if (reader.ValueTextEquals(utf8))
            {
                name = known;
                return flag;
            }
        }
        name = TryGetString(ref reader, out string? text) ? Truncate(text, 64) : "(a name that is not valid UTF-8)";
        return Seen.None;
    }

    private static readonly (Seen Flag, string Name, byte[] Utf8)[] Fields =
        [.. Required.Append((Flag: Seen.PlayedAt, Name: "played_at")).Select(f => (f.Flag, f.Name, Encoding.UTF8.GetBytes(f.Name)))];

    private static string? ReadEventId(ref Utf8JsonReader reader, out string? error)
    {
        error = null;
        if (reader.TokenType != JsonTokenType.String)
        {
            error = $"must be a string (got {Shown(ref reader)})";
            return null;
        }
        if (!TryGetString(ref reader, out string? id))
        {
            error = "is not valid UTF-8 (an unpaired surrogate or a bad byte)";
            return null;
        }
        int bytes = Encoding.UTF8.GetByteCount(id);
        if (bytes == 0 || bytes > PlayEvent.MaxEventIdBytes) error = $"must be 1..{PlayEvent.MaxEventIdBytes} bytes of UTF-8 (got {bytes})";
        else if (id.AsSpan().ContainsAnyInRange('\0', '\u001f') || id.Contains('\u007f')) error = "must not contain control characters";
        return id;
    }

    private static bool TryId(ref Utf8JsonReader reader, out long id, out string? error)
    {
        id = 0;
        error = null;
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out id) && id >= 0) return true;
        error = reader.TokenType == JsonTokenType.Number
            ? $"must be a whole number in 0..{long.MaxValue} (got {Shown(ref reader)})"
            : $"must be a number (got {Shown(ref reader)})";
        return false;
    }

    private static string? ReadTime(ref Utf8JsonReader reader, DateTime nowUtc, out DateTime utc)
    {
        utc = nowUtc;
        if (reader.TokenType != JsonTokenType.String) return $"must be an ISO 8601 time string or null (got {Shown(ref reader)})";
        if (!reader.TryGetDateTime(out var parsed) || !reader.TryGetDateTimeOffset(out var offset))
        {
            return $"is not an ISO 8601 time (got {Shown(ref reader)}); e.g. 2026-12-01T20:15:00Z";
        }
        if (parsed.Kind == DateTimeKind.Unspecified) return $"needs a time zone, Z or +hh:mm (got {Shown(ref reader)})";
        utc = offset.UtcDateTime;
        if (utc > nowUtc + FutureTolerance) return $"is more than {FutureTolerance.TotalHours:F0} h after the server's time {nowUtc:O} (got {Shown(ref reader)})";
        if (utc < Earliest) return $"is before 1970 (got {Shown(ref reader)})";
        return null;
    }

    /// <summary>The offending value as it was sent, shortened, for the message.</summary>
    private static string Shown(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.String => TryGetString(ref reader, out string? text) ? "\"" + Truncate(text, 40) + "\"" : "a string that is not valid UTF-8",
        JsonTokenType.Number => Truncate(Encoding.UTF8.GetString(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan), 40),
        JsonTokenType.True => "true",
        JsonTokenType.False => "false",
        _ => Describe(reader.TokenType),
    };

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.Null => "null",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        _ => token.ToString(),
    };

    /// <summary>The string value, or false where it is not valid UTF-8 (GetString throws InvalidOperationException there, not JsonException).</summary>
    private static bool TryGetString(ref Utf8JsonReader reader, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? text)
    {
        try
        {
            text = reader.GetString() ?? "";
            return true;
        }
        catch (InvalidOperationException)
        {
            text = null;
            return false;
        }
    }

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max] + "…";

    /// <summary>System.Text.Json's message without its own position suffix (ours is more useful).</summary>
    private static string Plain(string message)
    {
        int at = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (at > 0 ? message[..at] : message).TrimEnd('.', ' ');
    }
}
