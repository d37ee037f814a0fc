using RecSys.Engine.Data;
using RecSys.Engine.Events;

namespace RecSys.Server.Events;

/// <summary>
/// The embedded log's plays as training data: the qualified events up to a sequence number, each
/// event id once over the whole log (the log's own check covers only its recent window), added to
/// what the configured source read.
/// </summary>
public static class LoggedPlays
{
    public static InteractionData AddTo(InteractionData data, EventLog log, long through)
    {
        var seen = new HashSet<UInt128>();
        long added = 0;
        foreach (var record in log.Read())
        {
            if (record.Sequence > through) break;
            var e = record.Event;
            if (!seen.Add(DedupWindow.Hash(e.EventId)) || !e.Qualifies) continue;
            data.Table.Add(e.UserId, e.TrackId, 1);
            added++;
        }
        return data with { Source = $"{data.Source} + {added} qualified play events ({log.Path} through {through})" };
    }
}
