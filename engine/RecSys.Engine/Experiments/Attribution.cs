using RecSys.Engine.Events;

namespace RecSys.Engine.Experiments;

/// <summary>One analysed user: their arm, what they were shown, the plays it earned, and their plays before the experiment.</summary>
public readonly record struct UserOutcome(long UserId, int Arm, long Exposures, long Plays, long Completed, double ListeningMs, long PrePlays);

/// <summary>What attribution found: the analysed users, and those it had to leave out and why.</summary>
public sealed record AttributionResult(IReadOnlyList<UserOutcome> Users, long UsersInTwoArms, long ExposuresOfUnknownArms, long OverriddenUsers, long PlaysAttributed, long DuplicatePlays);

/// <summary>
/// Joins plays to exposures. A play counts for the user's arm when the same user was shown that track
/// in an answer at most the attribution window before the play (the latest such answer takes it), and
/// once only, however many answers showed the track. Plays before the experiment's start within the
/// covariate window become the user's pre-experiment plays (CUPED's covariate). A user with exposures in
/// two arms (possible only when a definition changed under a running experiment) cannot be analysed and
/// is left out and counted, as are QA overrides.
/// </summary>
public static class Attribution
{
    public static AttributionResult Run(ExperimentDefinition experiment, IEnumerable<Exposure> exposures, IEnumerable<PlayEvent> plays)
    {
        var arms = experiment.Arms.Select((a, i) => (a.Name, i)).ToDictionary();
        var users = new Dictionary<long, UserState>();
        long unknownArm = 0;
        foreach (var exposure in exposures)
        {
            if (exposure.Experiment != experiment.Id) continue;
            if (!arms.TryGetValue(exposure.Arm, out int arm))
            {
                unknownArm++;
                continue;
            }
            if (!users.TryGetValue(exposure.UserId, out var state)) users[exposure.UserId] = state = new UserState(arm);
            else if (state.Arm != arm) state.TwoArms = true;
            state.Shown.Add(exposure);
        }
        long overridden = 0;
        foreach (long user in experiment.Overrides.Keys)
        {
            if (users.Remove(user)) overridden++;
        }
        foreach (var state in users.Values) state.Shown.Sort((a, b) => a.ShownAtUtc.CompareTo(b.ShownAtUtc));

        DateTime start = experiment.StartUtc ?? experiment.CreatedUtc;
        DateTime covariateFrom = start.AddDays(-experiment.CovariateDays);
        var window = TimeSpan.FromHours(experiment.AttributionWindowHours);
        var seen = new HashSet<UInt128>();
        long duplicates = 0;
        foreach (var play in plays)
        {
            if (!users.TryGetValue(play.UserId, out var state)) continue;
            if (play.EventId.Length > 0 && !seen.Add(DedupWindow.Hash(play.EventId)))
            {
                duplicates++;
                continue;
            }
            if (play.PlayedAtUtc < start)
            {
                if (play.PlayedAtUtc >= covariateFrom) state.PrePlays++;
                continue;
            }
            var (exposure, position) = state.Find(play.TrackId, play.PlayedAtUtc, window);
            if (exposure is null) continue;
            state.Plays++;
            if (play.IsCompleted) state.Completed++;
            state.ListeningMs += play.Milestone / 100.0 * (position < exposure.DurationsMs.Length ? exposure.DurationsMs[position] : 0);
        }
        long twoArms = users.Values.Count(s => s.TwoArms);
        var outcomes = users.Where(u => !u.Value.TwoArms)
            .Select(u => new UserOutcome(u.Key, u.Value.Arm, u.Value.Shown.Count, u.Value.Plays, u.Value.Completed, u.Value.ListeningMs, u.Value.PrePlays))
            .OrderBy(u => u.UserId)
            .ToArray();
        return new AttributionResult(outcomes, twoArms, unknownArm, overridden, outcomes.Sum(u => u.Plays), duplicates);
    }

    private sealed class UserState(int arm)
    {
        public readonly int Arm = arm;
        public bool TwoArms;
        public readonly List<Exposure> Shown = [];
        public long Plays, Completed, PrePlays;
        public double ListeningMs;

        /// <summary>The latest exposure showing <paramref name="track"/> at most <paramref name="window"/> before <paramref name="at"/>, and the track's position in it.</summary>
        public (Exposure? Exposure, int Position) Find(long track, DateTime at, TimeSpan window)
        {
            // The first exposure after the play, by binary search; then back in time until the window ends.
            int lo = 0, hi = Shown.Count;
            while (lo < hi)
            {
                int mid = (lo + hi) >>> 1;
                if (Shown[mid].ShownAtUtc <= at) lo = mid + 1;
                else hi = mid;
            }
            for (int i = lo - 1; i >= 0 && at - Shown[i].ShownAtUtc <= window; i--)
            {
                int position = Array.IndexOf(Shown[i].Tracks, track);
                if (position >= 0) return (Shown[i], position);
            }
            return (null, -1);
        }
    }
}
