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
            state.Add(exposure);
        }
        long overridden = 0;
        foreach (long user in experiment.Overrides.Keys)
        {
            if (users.Remove(user)) overridden++;
        }

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
            if (!state.TryFind(play.TrackId, play.PlayedAtUtc, window, out int durationMs)) continue;
            state.Plays++;
            if (play.IsCompleted) state.Completed++;
            state.ListeningMs += play.Milestone / 100.0 * durationMs;
        }
        long twoArms = users.Values.Count(s => s.TwoArms);
        var outcomes = users.Where(u => !u.Value.TwoArms)
            .Select(u => new UserOutcome(u.Key, u.Value.Arm, u.Value.Exposures, u.Value.Plays, u.Value.Completed, u.Value.ListeningMs, u.Value.PrePlays))
            .OrderBy(u => u.UserId)
            .ToArray();
        return new AttributionResult(outcomes, twoArms, unknownArm, overridden, outcomes.Sum(u => u.Plays), duplicates);
    }

    /// <summary>One track shown at one time, ordered by track then time: a user's exposures flattened for search.</summary>
    private readonly record struct Shown(long Track, long Ticks, int DurationMs) : IComparable<Shown>
    {
        public int CompareTo(Shown other) => Track != other.Track ? Track.CompareTo(other.Track) : Ticks.CompareTo(other.Ticks);
    }

    /// <summary>
    /// A user's exposures. A user shown many answers gets them indexed on first use as one sorted array of
    /// (track, time), so a play costs a binary search however many answers there were (a client that
    /// asks for thousands of answers cannot make the report quadratic); the others are scanned.
    /// </summary>
    private sealed class UserState(int arm)
    {
        public readonly int Arm = arm;
        public bool TwoArms;
        public long Exposures;
        public long Plays, Completed, PrePlays;
        public double ListeningMs;
        private List<Exposure>? _shown = [];
        private Shown[]? _index;

        public void Add(Exposure exposure)
        {
            Exposures++;
            _shown!.Add(exposure);
        }

        /// <summary>Users shown at most this many answers are searched answer by answer (cheaper than building an index for them: 3× on the simulator's users).</summary>
        private const int ScanLimit = 64;

        private bool _sorted;

        /// <summary>Whether <paramref name="track"/> was shown at most <paramref name="window"/> before <paramref name="at"/>; the duration the latest such answer gave it.</summary>
        public bool TryFind(long track, DateTime at, TimeSpan window, out int durationMs)
        {
            durationMs = 0;
            if (Exposures <= ScanLimit) return Scan(track, at, window, out durationMs);
            var index = _index ??= Index();
            // The first entry after (track, at); the one before it is the latest showing at or before the play.
            int lo = 0, hi = index.Length;
            var key = new Shown(track, at.Ticks, 0);
            while (lo < hi)
            {
                int mid = (lo + hi) >>> 1;
                if (index[mid].CompareTo(key) <= 0) lo = mid + 1;
                else hi = mid;
            }
            if (lo == 0) return false;
            var found = index[lo - 1];
            if (found.Track != track || at.Ticks - found.Ticks > window.Ticks) return false;
            durationMs = found.DurationMs;
            return true;
        }

        private bool Scan(long track, DateTime at, TimeSpan window, out int durationMs)
        {
            durationMs = 0;
            var shown = _shown!;
            if (!_sorted)
            {
                shown.Sort((a, b) => a.ShownAtUtc.CompareTo(b.ShownAtUtc));
                _sorted = true;
            }
            int lo = 0, hi = shown.Count;
            while (lo < hi)
            {
                int mid = (lo + hi) >>> 1;
                if (shown[mid].ShownAtUtc <= at) lo = mid + 1;
                else hi = mid;
            }
            for (int i = lo - 1; i >= 0 && at - shown[i].ShownAtUtc <= window; i--)
            {
                int position = Array.IndexOf(shown[i].Tracks, track);
                if (position < 0) continue;
                durationMs = position < shown[i].DurationsMs.Length ? shown[i].DurationsMs[position] : 0;
                return true;
            }
            return false;
        }

        private Shown[] Index()
        {
            int count = 0;
            foreach (var exposure in _shown!) count += exposure.Tracks.Length;
            var index = new Shown[count];
            int at = 0;
            foreach (var exposure in _shown)
            {
                // A track twice in one answer has one duration: whichever entry the search finds, the same.
                for (int i = 0; i < exposure.Tracks.Length; i++)
                {
                    index[at++] = new Shown(exposure.Tracks[i], exposure.ShownAtUtc.Ticks, i < exposure.DurationsMs.Length ? exposure.DurationsMs[i] : 0);
                }
            }
            Array.Sort(index);
            _shown = null;
            return index;
        }
    }
}
