using System.Buffers;
using System.Text;
using RecSys.Engine.Events;

namespace RecSys.Tests.Events;

public sealed class PlayEventParserTests
{
    private static readonly DateTime Now = new(2026, 12, 2, 12, 0, 0, DateTimeKind.Utc);

    private static PlayEventBatch Array(string json, int max = 100) => PlayEventParser.ParseArray(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(json)), Now, max);

    private static PlayEventBatch Ndjson(string text, int max = 100) => PlayEventParser.ParseNdjson(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(text)), Now, max);

    private const string Good = """{"event_id":"e1","user_id":7,"track_id":9,"milestone":80,"is_completed":false}""";

    [Fact]
    public void A_valid_batch_reads_every_field_and_takes_the_servers_time_when_played_at_is_absent()
    {
        var batch = Array($$"""[{{Good}}, {"event_id":"e2","user_id":0,"track_id":9223372036854775807,"milestone":0,"is_completed":true,"played_at":"2026-12-01T20:15:00+01:00"}, {"event_id":"e3","user_id":1,"track_id":2,"milestone":100,"is_completed":false,"played_at":null}]""");
        Assert.True(batch.IsValid);
        Assert.Equal(new PlayEvent("e1", 7, 9, 80, false, Now), batch.Events[0]);
        Assert.Equal(new PlayEvent("e2", 0, long.MaxValue, 0, true, new DateTime(2026, 12, 1, 19, 15, 0, DateTimeKind.Utc)), batch.Events[1]);
        Assert.Equal(Now, batch.Events[2].PlayedAtUtc);
        Assert.True(batch.Events[0].Qualifies);
        Assert.True(batch.Events[1].Qualifies);
        Assert.True(batch.Events[2].Qualifies);
        Assert.False(new PlayEvent("x", 1, 1, 74, false, Now).Qualifies);
    }

    [Theory]
    [InlineData("event_id", "\"\"", "1..128 bytes")]
    [InlineData("event_id", "5", "must be a string")]
    [InlineData("event_id", "\"a\\u0001b\"", "control characters")]
    [InlineData("user_id", "-1", "whole number in 0..")]
    [InlineData("user_id", "1.5", "whole number in 0..")]
    [InlineData("user_id", "9223372036854775808", "whole number in 0..")]
    [InlineData("user_id", "\"7\"", "must be a number")]
    [InlineData("user_id", "null", "must be a number")]
    [InlineData("track_id", "-3", "whole number in 0..")]
    [InlineData("track_id", "[1]", "must be a number")]
    [InlineData("milestone", "101", "0..100")]
    [InlineData("milestone", "-1", "0..100")]
    [InlineData("milestone", "75.5", "0..100")]
    [InlineData("milestone", "\"80\"", "0..100")]
    [InlineData("is_completed", "1", "true or false")]
    [InlineData("is_completed", "\"true\"", "true or false")]
    [InlineData("played_at", "\"yesterday\"", "not an ISO 8601 time")]
    [InlineData("played_at", "\"2026-12-01T10:00:00\"", "needs a time zone")]
    [InlineData("played_at", "\"2026-12-04T10:00:00Z\"", "after the server's time")]
    [InlineData("played_at", "\"1969-12-31T23:59:59Z\"", "before 1970")]
    [InlineData("played_at", "1733000000", "ISO 8601 time string")]
    public void Every_bad_value_is_named_with_its_index_and_field_and_fails_the_whole_batch(string field, string value, string reason)
    {
        var fields = new Dictionary<string, string>
        {
            ["event_id"] = "\"e2\"", ["user_id"] = "1", ["track_id"] = "2", ["milestone"] = "90", ["is_completed"] = "false",
        };
        fields[field] = value;
        string bad = "{" + string.Join(",", fields.Select(f => $"\"{f.Key}\":{f.Value}")) + "}";
        var batch = Array($"[{Good},{bad},{Good.Replace("e1", "e3")}]");
        Assert.False(batch.IsValid);
        var error = Assert.Single(batch.Errors);
        Assert.Equal(1, error.Index);
        Assert.Equal(field, error.Field);
        Assert.Contains(reason, error.Reason);
        Assert.Equal(2, batch.Events.Count);
    }

    [Theory]
    [InlineData("event_id")]
    [InlineData("user_id")]
    [InlineData("track_id")]
    [InlineData("milestone")]
    [InlineData("is_completed")]
    public void A_missing_required_field_is_an_error(string field)
    {
        var fields = new Dictionary<string, string> { ["event_id"] = "\"e\"", ["user_id"] = "1", ["track_id"] = "2", ["milestone"] = "90", ["is_completed"] = "false" };
        fields.Remove(field);
        var error = Assert.Single(Array("[{" + string.Join(",", fields.Select(f => $"\"{f.Key}\":{f.Value}")) + "}]").Errors);
        Assert.Equal((0, field, "missing"), (error.Index, error.Field, error.Reason));
    }

    [Fact]
    public void Unknown_and_repeated_fields_and_non_objects_are_errors()
    {
        var batch = Array($$$"""[{"event_id":"e","user_id":1,"track_id":2,"milestone":90,"is_complete":true,"is_completed":false}, {{{Good}}}, 5, {"event_id":"f","event_id":"g","user_id":1,"track_id":2,"milestone":90,"is_completed":false,"x":{"deep":[1,2]}}]""");
        Assert.Contains(batch.Errors, e => e is { Index: 0, Field: "is_complete" } && e.Reason.StartsWith("unknown field"));
        Assert.Contains(batch.Errors, e => e is { Index: 2 } && e.Reason.Contains("JSON object"));
        Assert.Contains(batch.Errors, e => e is { Index: 3, Field: "event_id", Reason: "appears twice" });
        Assert.Contains(batch.Errors, e => e is { Index: 3, Field: "x" });
        Assert.Single(batch.Events);
    }

    [Theory]
    [InlineData("""[{"event_id":"e1" """, "malformed JSON")]
    [InlineData("""{"event_id":"e1"}""", "must be a JSON array")]
    [InlineData("", "the body is empty")]
    [InlineData(" \n", "the body is empty")]
    [InlineData("""[] []""", "malformed JSON")]
    [InlineData("""[1,]""", "malformed JSON")]
    public void A_body_that_is_not_an_array_of_events_is_a_syntax_error(string body, string reason)
    {
        var batch = Array(body);
        Assert.False(batch.IsValid);
        Assert.Contains(reason, batch.SyntaxError);
    }

    [Fact]
    public void More_events_than_allowed_stops_the_parse()
    {
        Assert.True(Array($"[{Good},{Good},{Good}]", max: 2).TooMany);
        Assert.True(Array($"[{Good},{Good}]", max: 2).IsValid);
        Assert.True(Ndjson($"{Good}\n{Good}\n{Good}\n", max: 2).TooMany);
    }

    [Fact]
    public void Ndjson_reads_one_event_a_line_skips_blank_lines_and_names_the_line_of_a_bad_one()
    {
        var batch = Ndjson($"{Good}\r\n\n  \n{Good.Replace("e1", "e2")}\n{{bad\n{Good} {Good}");
        Assert.True(batch.Errors.Count == 2, string.Join("; ", batch.Errors));
        Assert.Equal(2, batch.Events.Count);
        Assert.Equal(2, batch.Errors.Count);
        Assert.Equal((2, 5), (batch.Errors[0].Index, batch.Errors[0].Line!.Value));
        Assert.Contains("malformed JSON", batch.Errors[0].Reason);
        Assert.Equal((3, 6), (batch.Errors[1].Index, batch.Errors[1].Line!.Value));
        Assert.True(Ndjson($"{Good}").IsValid);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_body_split_across_buffers_reads_as_one(bool ndjson)
    {
        string text = ndjson ? $"{Good}\n{Good.Replace("e1", "e2")}\n" : $"[{Good},{Good.Replace("e1", "e2")}]";
        var bytes = Encoding.UTF8.GetBytes(text);
        for (int cut = 1; cut < bytes.Length; cut += 3)
        {
            var first = new Segment(bytes[..cut]);
            var last = first.Append(bytes[cut..]);
            var body = new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
            var batch = ndjson ? PlayEventParser.ParseNdjson(body, Now, 10) : PlayEventParser.ParseArray(body, Now, 10);
            Assert.True(batch.IsValid, $"cut at {cut}: {batch.SyntaxError}");
            Assert.Equal(["e1", "e2"], batch.Events.Select(e => e.EventId));
        }
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] bytes) => Memory = bytes;

        public Segment Append(byte[] bytes)
        {
            var next = new Segment(bytes) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }

    [Theory]
    [InlineData("\"event_id\":\"\\ud800\"", "event_id", "not valid UTF-8")]
    [InlineData("\"event_id\":\"\\udc00x\"", "event_id", "not valid UTF-8")]
    [InlineData("\"\\ud800\":1", "(a name that is not valid UTF-8)", "unknown field")]
    public void A_string_that_is_not_valid_utf8_is_that_fields_error_not_a_crash(string field, string name, string reason)
    {
        string body = "[{" + field + ",\"user_id\":1,\"track_id\":2,\"milestone\":90,\"is_completed\":false" + (field.Contains("event_id") ? "" : ",\"event_id\":\"e\"") + "}]";
        var error = Assert.Single(Array(body).Errors);
        Assert.Equal(name, error.Field);
        Assert.Contains(reason, error.Reason);
    }

    [Fact]
    public void A_raw_byte_that_is_not_utf8_is_refused_as_malformed()
    {
        var bytes = Encoding.UTF8.GetBytes($"[{Good}]").ToList();
        bytes.InsertRange(bytes.IndexOf((byte)'e') + 1, new byte[] { 0xFF });
        var batch = PlayEventParser.ParseArray(new ReadOnlySequence<byte>(bytes.ToArray()), Now, 10);
        Assert.False(batch.IsValid);
        var ndjson = PlayEventParser.ParseNdjson(new ReadOnlySequence<byte>(bytes.Skip(1).SkipLast(1).ToArray()), Now, 10);
        Assert.False(ndjson.IsValid);
    }

    [Fact]
    public void Errors_past_the_cap_are_counted_not_kept()
    {
        string bad = "{" + string.Join(",", Enumerable.Range(0, 50).Select(i => $"\"x{i}\":1")) + "}";
        var batch = Array("[" + string.Join(",", Enumerable.Repeat(bad, 40)) + "]");
        Assert.Equal(PlayEventParser.MaxErrors, batch.Errors.Count);
        Assert.Equal(40 * (50 + 5), batch.ErrorCount);
    }
}
