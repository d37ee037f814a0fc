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

    public SearchContext(object owner, int nodes, int maxLinks)
    {
        Owner = owner;
        _visited = new int[nodes];
        _excluded = new int[nodes];
        Neighbors = new int[maxLinks + 1];
        Fresh = new int[maxLinks + 1];
    }

    /// <summary>The graph this context belongs to (sizes differ between graphs).</summary>
    public object Owner { get; }

    public DistanceQueue<ClosestFirst> Candidates { get; } = new();
    public DistanceQueue<FurthestFirst> Results { get; } = new();
    public int[] Neighbors { get; }

    /// <summary>Neighbours of the node being expanded that were not visited yet.</summary>
    public int[] Fresh { get; }
    private BuildScratch? _build;

    /// <summary>Buffers used only while inserting, sized for ef_construction and the level-0 list.</summary>
    public BuildScratch Build(int efConstruction, int maxLinks)
    {
        if (_build is null || _build.CandidateNode.Length < efConstruction + 1) _build = new BuildScratch(efConstruction + 1, maxLinks + 1);
        return _build;
    }

    internal sealed class BuildScratch(int candidates, int links)
    {
        public float[] CandidateDistance { get; } = new float[candidates];
        public int[] CandidateNode { get; } = new int[candidates];
        public float[] KeptDistance { get; } = new float[candidates];
        public int[] KeptNode { get; } = new int[candidates];
        public float[] ConnectDistance { get; } = new float[links];
        public int[] ConnectNode { get; } = new int[links];
        public float[] ConnectKeptDistance { get; } = new float[links];
        public int[] ConnectKeptNode { get; } = new int[links];
    }
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
