using RecSys.Server.Cluster;
using RecSys.Server.Events;

namespace RecSys.Tests.Server;

/// <summary>The pieces of live state that replicas lean on: a play read twice counts once, and a catch-up asked for while one runs is never lost.</summary>
public sealed class LiveStateUnitTests
{
    [Fact]
    public void A_play_held_already_by_its_sequence_number_is_not_added_again()
    {
        var user = new LiveUser(7);
        Assert.Equal((true, true), user.Add(track: 10, sequence: 5));
        Assert.Equal((true, false), user.Add(track: 10, sequence: 9));
        // Read again (a rollback's replay, then the feed): nothing changes.
        Assert.Equal((false, false), user.Add(track: 10, sequence: 5));
        Assert.Equal((false, false), user.Add(track: 10, sequence: 9));
        // An older number not held yet (plays of several replicas arrive out of order) is added.
        Assert.Equal((true, true), user.Add(track: 11, sequence: 3));
        Assert.Equal(3, user.Count);
        Assert.Equal(2, user.After(0).Plays[10]);
        Assert.Equal(1, user.After(5).Plays[10]);
    }

    [Fact]
    public async Task Single_flight_runs_one_at_a_time_and_never_loses_a_request()
    {
        var flight = new SingleFlight();
        int running = 0, overlapped = 0, runs = 0;
        long requested = 0, seenByRuns = 0;
        void Work()
        {
            if (Interlocked.Increment(ref running) > 1) Interlocked.Increment(ref overlapped);
            // What the run covers: every request made before it read the counter.
            Interlocked.Exchange(ref seenByRuns, Interlocked.Read(ref requested));
            Interlocked.Increment(ref runs);
            Thread.SpinWait(200);
            Interlocked.Decrement(ref running);
        }
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (int i = 0; i < 20_000; i++)
            {
                Interlocked.Increment(ref requested);
                flight.Run(Work);
            }
        })));
        Assert.Equal(0, overlapped);
        // The last request was followed by a run that saw it, and requests were merged rather than run one by one.
        Assert.Equal(Interlocked.Read(ref requested), Interlocked.Read(ref seenByRuns));
        Assert.InRange(runs, 1, 80_000);
    }
}
