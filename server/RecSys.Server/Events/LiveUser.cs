namespace RecSys.Server.Events;

/// <summary>
/// A listener's qualified plays received as events (track, sequence number), and the answer inputs
/// last computed from them for a model. Written by the event writer, read by requests: one lock, held
/// for a copy of a few plays.
/// </summary>
public sealed class LiveUser(long id)
{
    public long Id => id;

    private readonly object _lock = new();
    private (long Track, long Sequence)[] _plays = new (long, long)[4];
    private int _count;
    private int _version;
    private long _newest = long.MinValue;
    private LiveAnswer? _answer;

    public int Count
    {
        get
        {
            lock (_lock) return _count;
        }
    }

    /// <summary>
    /// Adds a play unless one with its sequence number is held already (Added false). First: the user had
    /// no play of that track among the live ones yet.
    /// </summary>
    public (bool Added, bool First) Add(long track, long sequence)
    {
        lock (_lock)
        {
            bool first = true;
            // Sequence numbers usually arrive in order: only one at or below the newest can be held already.
            bool mayBeHeld = sequence <= _newest;
            for (int i = 0; i < _count; i++)
            {
                if (mayBeHeld && _plays[i].Sequence == sequence) return (false, false);
                if (_plays[i].Track == track) first = false;
            }
            _newest = Math.Max(_newest, sequence);
            if (_count == _plays.Length) Array.Resize(ref _plays, _count * 2);
            _plays[_count++] = (track, sequence);
            _version++;
            _answer = null;
            return (true, first);
        }
    }

    /// <summary>Plays per track among those after <paramref name="through"/> (the ones a model has not seen), and the version they make.</summary>
    public (Dictionary<long, int> Plays, int Version) After(long through)
    {
        lock (_lock)
        {
            var plays = new Dictionary<long, int>();
            for (int i = 0; i < _count; i++)
            {
                if (_plays[i].Sequence > through) plays[_plays[i].Track] = plays.GetValueOrDefault(_plays[i].Track) + 1;
            }
            return (plays, _version);
        }
    }

    /// <summary>Plays per track among those after <paramref name="through"/>, the most recently played track first (a listener's history).</summary>
    public List<(long Track, int Plays)> RecentAfter(long through)
    {
        lock (_lock)
        {
            var recent = new List<(long Track, int Plays)>();
            var at = new Dictionary<long, int>();
            for (int i = _count - 1; i >= 0; i--)
            {
                if (_plays[i].Sequence <= through) continue;
                long track = _plays[i].Track;
                if (at.TryGetValue(track, out int slot)) recent[slot] = (track, recent[slot].Plays + 1);
                else
                {
                    at[track] = recent.Count;
                    recent.Add((track, 1));
                }
            }
            return recent;
        }
    }

    /// <summary>Forgets plays a model was trained on; returns how many are left.</summary>
    public int Prune(long through)
    {
        lock (_lock)
        {
            int kept = 0;
            for (int i = 0; i < _count; i++)
            {
                if (_plays[i].Sequence > through) _plays[kept++] = _plays[i];
            }
            if (kept != _count)
            {
                _count = kept;
                _version++;
                _answer = null;
            }
            return kept;
        }
    }

    /// <summary>The answer inputs computed for <paramref name="model"/> at the current version, if any.</summary>
    public LiveAnswer? Cached(object model)
    {
        lock (_lock) return _answer is { } a && ReferenceEquals(a.Model, model) && a.Version == _version ? a : null;
    }

    /// <summary>Keeps computed inputs unless a play arrived meanwhile (then the next request computes anew).</summary>
    public void Keep(LiveAnswer answer)
    {
        lock (_lock)
        {
            if (answer.Version == _version) _answer = answer;
        }
    }
}
