using RecSys.Engine.Events;
using RecSys.Engine.Experiments;

namespace RecSys.Tests.Experiments;

public sealed class AttributionTests
{
    private static readonly DateTime Start = new(2026, 12, 1, 0, 0, 0, DateTimeKind.Utc);

    private static readonly ExperimentDefinition Experiment = new()
    {
        Id = "e",
        Salt = "e",
        Arms = [new ExperimentArm("control", 1, "ml"), new ExperimentArm("pop", 1, "popularity")],
        StartUtc = Start,
        Overrides = new Dictionary<long, string> { [4] = "pop" },
    };

    private static Exposure Shown(long user, string arm, DateTime at, long[] tracks, int[] durations, string experiment = "e") =>
        new(Guid.NewGuid(), experiment, arm, user, at, tracks, durations);

    private static int _ids;

    private static PlayEvent Play(long user, long track, DateTime at, int milestone = 100, bool completed = true, string? id = null) =>
        new(id ?? $"p{Interlocked.Increment(ref _ids)}", user, track, milestone, completed, at);

    [Fact]
    public void Plays_count_for_the_arm_only_within_the_window_after_showing_the_track()
    {
        var t0 = Start.AddHours(5);
        var exposures = new[]
        {
            Shown(1, "control", t0, [10, 11, 12], [100_000, 200_000, 0]),
            Shown(2, "pop", t0, [20], [1_000]),
            Shown(2, "pop", t0.AddHours(1), [20, 21], [3_000, 5_000]),
            Shown(3, "control", t0, [30], [1]),
            Shown(3, "pop", t0, [30], [1]),
            Shown(4, "pop", t0, [40], [1]),
            Shown(5, "gone", t0, [50], [1]),
            Shown(1, "control", t0, [10, 11, 12], [1, 1, 1], experiment: "other"),
        };
        var plays = new[]
        {
            Play(1, 11, t0.AddHours(1), milestone: 50, completed: false), // counts: 0.5 × 200 s
            Play(1, 11, t0.AddHours(2), id: "dup"),                        // counts again: another play (200 s)
            Play(1, 11, t0.AddHours(2), id: "dup"),                        // the same event twice: once
            Play(1, 10, t0.AddMinutes(-1)),                                // before it was shown
            Play(1, 99, t0.AddHours(1)),                                   // never shown
            Play(1, 12, t0.AddHours(24)),                                  // at the window's end: counts (duration unknown: 0 ms)
            Play(1, 10, t0.AddHours(24).AddSeconds(1)),                    // past it
            Play(1, 10, Start.AddDays(-1)),                                // covariate
            Play(1, 10, Start.AddDays(-27.9)),                             // covariate
            Play(1, 10, Start.AddDays(-40)),                               // before the covariate window
            Play(2, 20, t0.AddHours(2)),                                   // shown twice: once, by the later answer (3 s)
            Play(3, 30, t0.AddHours(1)),                                   // two arms: left out
            Play(4, 40, t0.AddHours(1)),                                   // QA override: left out
            Play(6, 10, t0.AddHours(1)),                                   // never exposed
        };
        var result = Attribution.Run(Experiment, exposures, plays);
        Assert.Equal([1L, 2L], result.Users.Select(u => u.UserId));
        var one = result.Users[0];
        Assert.Equal(new UserOutcome(1, 0, 1, 3, 2, 300_000, 2), one);
        var two = result.Users[1];
        Assert.Equal(new UserOutcome(2, 1, 2, 1, 1, 3_000, 0), two);
        Assert.Equal(1, result.UsersInTwoArms);
        Assert.Equal(1, result.OverriddenUsers);
        Assert.Equal(1, result.ExposuresOfUnknownArms);
        Assert.Equal(1, result.DuplicatePlays);
        Assert.Equal(4, result.PlaysAttributed);
    }

    [Theory]
    [InlineData(20)]   // scanned answer by answer
    [InlineData(300)]  // indexed
    public void Many_answers_attribute_as_a_brute_force_search_does(int answers)
    {
        var rng = new Random(answers);
        var exposures = Enumerable.Range(0, answers).Select(_ =>
        {
            var tracks = Enumerable.Range(0, 10).Select(_ => (long)rng.Next(40)).Distinct().ToArray();
            return Shown(1, "pop", Start.AddMinutes(rng.Next(60 * 24 * 10)), tracks, [.. tracks.Select(t => (int)t * 1000)]);
        }).ToArray();
        var plays = Enumerable.Range(0, 2000).Select(_ => Play(1, rng.Next(45), Start.AddMinutes(rng.Next(60 * 24 * 12)), milestone: 100)).ToArray();
        var window = TimeSpan.FromHours(Experiment.AttributionWindowHours);
        long expectedPlays = 0;
        double expectedListening = 0;
        foreach (var play in plays)
        {
            var latest = exposures.Where(e => e.ShownAtUtc <= play.PlayedAtUtc && play.PlayedAtUtc - e.ShownAtUtc <= window && e.Tracks.Contains(play.TrackId))
                .OrderBy(e => e.ShownAtUtc).LastOrDefault();
            if (latest is null) continue;
            expectedPlays++;
            expectedListening += latest.DurationsMs[Array.IndexOf(latest.Tracks, play.TrackId)];
        }
        var user = Assert.Single(Attribution.Run(Experiment, exposures, plays).Users);
        Assert.True(expectedPlays > 100);
        Assert.Equal(expectedPlays, user.Plays);
        Assert.Equal(expectedListening, user.ListeningMs);
        Assert.Equal(answers, user.Exposures);
    }

    [Fact]
    public void Exposed_users_without_plays_still_count()
    {
        var result = Attribution.Run(Experiment, [Shown(9, "pop", Start.AddHours(1), [1], [1])], []);
        Assert.Equal(new UserOutcome(9, 1, 1, 0, 0, 0, 0), Assert.Single(result.Users));
    }
}
