namespace RecSys.Engine.Ann;

/// <summary>
/// Per-search scratch, pooled per index: epoch-tagged visited and excluded marks (clearing is one
/// increment, not a pass over all nodes), the two queues, and buffers for neighbour lists.
/// </summary>
internal sealed class SearchContext
{
    private readonly int[] _visited;
    private readonly int[] _excluded;
    private int _visitEpoch;
    private int _excludeEpoch;

    public SearchContext(int nodes, int maxLinks)
    {
        _visited = new int[nodes];
        _excluded = new int[nodes];
        Neighbors = new int[maxLinks + 1];
    }

    public DistanceQueue Candidates { get; } = new(closestFirst: true);
    public DistanceQueue Results { get; } = new(closestFirst: false);
    public int[] Neighbors { get; }
    public List<(float Distance, int Node)> Selection { get; } = [];
    public bool HasExclusions { get; private set; }

    public void NewVisit()
    {
        if (++_visitEpoch == int.MaxValue)
        {
            Array.Clear(_visited);
            _visitEpoch = 1;
        }
    }

    /// <summary>Marks the node visited; false when it already was.</summary>
    public bool Visit(int node)
    {
        if (_visited[node] == _visitEpoch) return false;
        _visited[node] = _visitEpoch;
        return true;
    }

    public void SetExclusions(ReadOnlySpan<int> exclude)
    {
        HasExclusions = !exclude.IsEmpty;
        if (!HasExclusions) return;
        if (++_excludeEpoch == int.MaxValue)
        {
            Array.Clear(_excluded);
            _excludeEpoch = 1;
        }
        foreach (int i in exclude)
        {
            if ((uint)i < (uint)_excluded.Length) _excluded[i] = _excludeEpoch;
        }
    }

    public bool IsExcluded(int node) => HasExclusions && _excluded[node] == _excludeEpoch;
}
