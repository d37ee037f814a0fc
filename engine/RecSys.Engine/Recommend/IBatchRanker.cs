using RecSys.Engine.Ann;

namespace RecSys.Engine.Recommend;

/// <summary>Every given user's top-N, heard tracks excluded: on the CPU (<see cref="BatchRecommender"/>) or a device.</summary>
public interface IBatchRanker
{
    /// <summary>Where the ranking runs, for logs.</summary>
    string Device { get; }

    /// <summary>
    /// Ranks <paramref name="users"/> (dense indices) in consecutive slices and hands each slice's lists
    /// to <paramref name="write"/> with the slice's start, in order; lists[i] belongs to users[start + i].
    /// </summary>
    void RankAll(int[] users, int k, bool excludeHeard, Action<int, ScoredIndex[][]> write);
}
