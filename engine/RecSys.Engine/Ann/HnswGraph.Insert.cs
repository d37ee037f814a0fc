namespace RecSys.Engine.Ann;

internal sealed partial class HnswGraph
{
    private void Insert(int node, int efConstruction)
    {
        var ctx = RentContext();
        try
        {
            ReadOnlySpan<float> q = Vectors.Row(node);
            int level = Levels[node];
            int entry;
            int top;
            bool raisesTop;
            lock (_entryLock)
            {
                entry = Entry;
                top = TopLevel;
                raisesTop = level > top;
                if (entry < 0)
                {
                    SetEntry(node, level);
                    return;
                }
            }
            for (int l = top; l > level; l--) entry = Greedy(q, entry, l, ctx);
            for (int l = Math.Min(level, top); l >= 0; l--)
            {
                SearchLayer(q, entry, efConstruction, l, ctx);
                // Results come out furthest first; the heuristic wants them closest first.
                var found = ctx.Selection;
                found.Clear();
                while (ctx.Results.Count > 0)
                {
                    found.Add((ctx.Results.TopDistance, ctx.Results.TopNode));
                    ctx.Results.Pop();
                }
                found.Reverse();
                entry = found[0].Node;
                var selected = SelectHeuristic(found, M);
                lock (_locks[node % LockStripes])
                {
                    WriteNeighbors(node, l, selected);
                }
                foreach (var (distance, neighbor) in selected)
                {
                    Connect(neighbor, node, distance, l);
                }
            }
            if (raisesTop)
            {
                lock (_entryLock)
                {
                    if (level > TopLevel) SetEntry(node, level);
                }
            }
        }
        finally
        {
            ReturnContext(ctx);
        }
    }

    /// <summary>Adds <paramref name="node"/> to <paramref name="neighbor"/>'s list, re-selecting by the heuristic when full.</summary>
    private void Connect(int neighbor, int node, float distance, int level)
    {
        int capacity = level == 0 ? M0 : M;
        lock (_locks[neighbor % LockStripes])
        {
            int[] array;
            int offset;
            if (level == 0)
            {
                array = Links0;
                offset = neighbor * (M0 + 1);
            }
            else
            {
                array = Upper[neighbor]!;
                offset = (level - 1) * (M + 1);
            }
            int count = array[offset];
            for (int i = 0; i < count; i++)
            {
                if (array[offset + 1 + i] == node) return;
            }
            if (count < capacity)
            {
                array[offset + 1 + count] = node;
                array[offset] = count + 1;
                return;
            }
            var candidates = new List<(float Distance, int Node)>(count + 1) { (distance, node) };
            for (int i = 0; i < count; i++)
            {
                int other = array[offset + 1 + i];
                candidates.Add((Vectors.Distance(neighbor, other), other));
            }
            candidates.Sort((a, b) => a.Distance.CompareTo(b.Distance));
            var kept = SelectHeuristic(candidates, capacity);
            for (int i = 0; i < kept.Count; i++) array[offset + 1 + i] = kept[i].Node;
            array[offset] = kept.Count;
        }
    }

    /// <summary>
    /// The paper's neighbour heuristic: walking candidates closest first, keep one only if it is closer
    /// to the new node than to every neighbour already kept, so links spread in all directions.
    /// </summary>
    private List<(float Distance, int Node)> SelectHeuristic(List<(float Distance, int Node)> sortedCandidates, int max)
    {
        var kept = new List<(float Distance, int Node)>(max);
        if (sortedCandidates.Count <= max)
        {
            kept.AddRange(sortedCandidates);
            return kept;
        }
        foreach (var candidate in sortedCandidates)
        {
            if (kept.Count >= max) break;
            bool good = true;
            foreach (var k in kept)
            {
                if (Vectors.Distance(candidate.Node, k.Node) < candidate.Distance)
                {
                    good = false;
                    break;
                }
            }
            if (good) kept.Add(candidate);
        }
        return kept;
    }
}
