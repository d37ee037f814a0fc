namespace RecSys.Server.Endpoints;

/// <summary>One track in a listener's history: qualified plays, and whether any came after the model's training.</summary>
internal readonly record struct HistoryEntry(long TrackId, float Plays, bool SinceTraining);

/// <summary>
/// A listener's history as the console shows it: the tracks played since the model's training first
/// (most recent first), then the earlier ones (most played first, then by id), one entry per track.
/// </summary>
internal static class ListenerHistory
{
    /// <param name="recent">Plays since training, most recent track first (the live events).</param>
    /// <param name="earlier">Plays from the model's training matrix or the plays table.</param>
    /// <param name="earlierHasRecent">
    /// Whether <paramref name="earlier"/> already counts the recent plays (the plays table holds the
    /// events too): then a track's count is taken from it, not added to.
    /// </param>
    public static List<HistoryEntry> Merge(IReadOnlyList<(long Track, int Plays)> recent, IEnumerable<(long Track, float Plays)> earlier, bool earlierHasRecent)
    {
        var entries = new List<HistoryEntry>(recent.Count);
        var at = new Dictionary<long, int>(recent.Count);
        foreach (var (track, plays) in recent)
        {
            at[track] = entries.Count;
            entries.Add(new HistoryEntry(track, plays, true));
        }
        var sorted = earlier.ToList();
        sorted.Sort((a, b) => b.Plays != a.Plays ? b.Plays.CompareTo(a.Plays) : a.Track.CompareTo(b.Track));
        foreach (var (track, plays) in sorted)
        {
            if (at.TryGetValue(track, out int i))
            {
                var entry = entries[i];
                entries[i] = entry with { Plays = earlierHasRecent ? Math.Max(plays, entry.Plays) : entry.Plays + plays };
            }
            else
            {
                entries.Add(new HistoryEntry(track, plays, false));
            }
        }
        return entries;
    }
}
