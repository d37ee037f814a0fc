using RecSys.Server.Endpoints;

namespace RecSys.Tests.WebConsole;

/// <summary>The listener history's order and counts, against hand-worked cases.</summary>
public sealed class ListenerHistoryTests
{
    [Fact]
    public void Recent_tracks_come_first_then_the_most_played_with_ties_by_id()
    {
        var merged = ListenerHistory.Merge([(30, 1), (10, 2)], [(10, 5f), (20, 3f), (40, 3f), (5, 1f)], earlierHasRecent: false);
        Assert.Equal(
            [new HistoryEntry(30, 1, true), new HistoryEntry(10, 7, true), new HistoryEntry(20, 3, false), new HistoryEntry(40, 3, false), new HistoryEntry(5, 1, false)],
            merged);
    }

    [Fact]
    public void A_plays_table_that_holds_the_events_is_not_counted_twice()
    {
        // The table already counts the two recent plays of track 10; track 30's event is not written yet.
        var merged = ListenerHistory.Merge([(30, 1), (10, 2)], [(10, 6f), (20, 1f)], earlierHasRecent: true);
        Assert.Equal([new HistoryEntry(30, 1, true), new HistoryEntry(10, 6, true), new HistoryEntry(20, 1, false)], merged);
    }

    [Fact]
    public void No_plays_is_an_empty_history()
    {
        Assert.Empty(ListenerHistory.Merge([], [], earlierHasRecent: false));
    }
}
