using RecSys.Engine.Events;

namespace RecSys.Tests.Events;

public sealed class EventLogTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly DateTime At = new(2026, 12, 1, 8, 30, 0, DateTimeKind.Utc);

    private static PlayEvent Play(string id, long user = 1, long track = 2, int milestone = 100, bool completed = true) =>
        new(id, user, track, milestone, completed, At);

    private string LogFile => Path.Combine(_dir.Path, EventLog.FileName);

    [Fact]
    public void Stored_events_read_back_whole_in_order_after_a_reopen_and_numbering_goes_on()
    {
        using (var log = EventLog.Open(_dir.Path))
        {
            Assert.Equal([1L, 2L], log.Store([Play("a", 1, 10), Play("é-ünïcode-" + new string('x', 100), long.MaxValue, 0, 0, false)]));
            Assert.Equal([3L], log.Store([Play("c", 3, 30, 74, true)]));
        }
        using var reopened = EventLog.Open(_dir.Path);
        Assert.Null(reopened.Recovered);
        Assert.Equal(3, reopened.LastSequence);
        var records = reopened.Read().ToList();
        Assert.Equal([1L, 2L, 3L], records.Select(r => r.Sequence));
        Assert.Equal(Play("a", 1, 10), records[0].Event);
        Assert.Equal(Play("é-ünïcode-" + new string('x', 100), long.MaxValue, 0, 0, false), records[1].Event);
        Assert.Equal([3L], reopened.Read(afterSequence: 2).Select(r => r.Sequence));
        Assert.Equal([4L], reopened.Store([Play("d")]));
    }

    [Fact]
    public void A_retried_event_is_stored_once_within_the_window_and_after_a_reopen()
    {
        using (var log = EventLog.Open(_dir.Path, dedupWindow: 3))
        {
            Assert.Equal([1L, 0L, 2L], log.Store([Play("a"), Play("a"), Play("b")]));
            Assert.Equal([0L, 3L], log.Store([Play("b"), Play("c")]));
        }
        using var reopened = EventLog.Open(_dir.Path, dedupWindow: 3);
        Assert.Equal([0L, 0L, 0L, 4L], reopened.Store([Play("a"), Play("b"), Play("c"), Play("d")]));
        // "a" has left the three-event window: it is stored again (training de-duplicates the whole log).
        Assert.Equal([5L], reopened.Store([Play("a")]));
        Assert.Equal(5, reopened.Read().Count());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(20)]
    [InlineData(40)]
    public void A_torn_last_record_is_cut_saved_aside_and_never_read(int bytesLost)
    {
        using (var log = EventLog.Open(_dir.Path)) log.Store([Play("a"), Play("b"), Play("c")]);
        long whole = new FileInfo(LogFile).Length;
        using (var f = new FileStream(LogFile, FileMode.Open)) f.SetLength(whole - bytesLost);
        using var reopened = EventLog.Open(_dir.Path);
        Assert.NotNull(reopened.Recovered);
        Assert.Equal(whole - bytesLost - reopened.Recovered!.At, reopened.Recovered.Bytes);
        Assert.True(File.Exists(reopened.Recovered.SavedTo));
        Assert.Equal(["a", "b"], reopened.Read().Select(r => r.Event.EventId));
        Assert.Equal(2, reopened.LastSequence);
        // The next write continues on a record boundary, and "c" (never acknowledged whole) can come again.
        Assert.Equal([3L], reopened.Store([Play("c")]));
        reopened.Dispose();
        using var again = EventLog.Open(_dir.Path);
        Assert.Null(again.Recovered);
        Assert.Equal(["a", "b", "c"], again.Read().Select(r => r.Event.EventId));
    }

    [Fact]
    public void A_flipped_byte_or_garbage_after_the_last_record_ends_the_log_there()
    {
        using (var log = EventLog.Open(_dir.Path)) log.Store([Play("a"), Play("b")]);
        long whole = new FileInfo(LogFile).Length;
        using (var f = new FileStream(LogFile, FileMode.Append)) f.Write(new byte[] { 40, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7 });
        using (var log = EventLog.Open(_dir.Path))
        {
            Assert.Equal(11, log.Recovered!.Bytes);
            Assert.Equal(2, log.Read().Count());
        }
        Assert.Equal(whole, new FileInfo(LogFile).Length);

        var bytes = File.ReadAllBytes(LogFile);
        bytes[^3] ^= 0x20;
        File.WriteAllBytes(LogFile, bytes);
        using var flipped = EventLog.Open(_dir.Path);
        Assert.Contains("checksum", flipped.Recovered!.Reason);
        Assert.Equal(["a"], flipped.Read().Select(r => r.Event.EventId));
    }

    [Fact]
    public void A_log_cut_inside_its_header_starts_anew_but_another_file_is_refused()
    {
        File.WriteAllBytes(LogFile, "RSPL"u8.ToArray());
        using (var log = EventLog.Open(_dir.Path)) Assert.Equal([1L], log.Store([Play("a")]));
        File.WriteAllText(LogFile, "user_id,track_id\n1,2\n");
        var e = Assert.Throws<InvalidDataException>(() => EventLog.Open(_dir.Path));
        Assert.Contains("not a RecSys event log", e.Message);
    }

    [Fact]
    public void Each_new_log_has_its_own_id()
    {
        Guid first;
        using (var log = EventLog.Open(_dir.Path)) first = log.Id;
        using (var log = EventLog.Open(_dir.Path)) Assert.Equal(first, log.Id);
        File.Delete(LogFile);
        using var fresh = EventLog.Open(_dir.Path);
        Assert.NotEqual(first, fresh.Id);
    }

    [Fact]
    public void A_reader_sees_only_what_was_stored_when_it_began()
    {
        using var log = EventLog.Open(_dir.Path);
        log.Store([Play("a")]);
        using var reading = log.Read().GetEnumerator();
        log.Store([Play("b")]);
        Assert.True(reading.MoveNext());
        Assert.False(reading.MoveNext());
    }

    [Fact]
    public void One_writer_per_log_a_second_open_is_refused_while_the_first_holds_it()
    {
        using (var first = EventLog.Open(_dir.Path))
        {
            var e = Assert.Throws<IOException>(() => EventLog.Open(_dir.Path));
            Assert.Contains("in use by another process", e.Message);
            // Readers of the first are unaffected.
            first.Store([Play("a")]);
            Assert.Single(first.Read());
        }
        using var again = EventLog.Open(_dir.Path);
        Assert.Equal(1, again.LastSequence);
    }

    [Fact]
    public void Damage_inside_the_log_stops_the_open_and_changes_nothing()
    {
        using (var log = EventLog.Open(_dir.Path))
        {
            for (int chunk = 0; chunk < 6; chunk++) log.Store(Enumerable.Range(0, EventLog.MaxEventsPerStore).Select(i => Play($"{chunk}-{i}")).ToArray());
        }
        var bytes = File.ReadAllBytes(LogFile);
        bytes[24 + 8 + 10] ^= 0x01;
        File.WriteAllBytes(LogFile, bytes);
        var e = Assert.Throws<InvalidDataException>(() => EventLog.Open(_dir.Path));
        Assert.Contains("damaged inside", e.Message);
        Assert.Equal(bytes, File.ReadAllBytes(LogFile));
    }

    [Fact]
    public void An_event_id_the_record_cannot_hold_is_refused_before_anything_is_written()
    {
        using var log = EventLog.Open(_dir.Path);
        Assert.Throws<ArgumentException>(() => log.Store([Play("a"), Play(new string('x', 300))]));
        Assert.Throws<ArgumentException>(() => log.Store([Play("")]));
        Assert.Empty(log.Read());
        Assert.Equal([1L], log.Store([Play("a")]));
    }
}
