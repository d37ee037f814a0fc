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
            var scratch = ctx.Build(efConstruction, M0);
            for (int l = Math.Min(level, top); l >= 0; l--)
            {
                SearchLayer(q, entry, efConstruction, l, ctx);
                // Results come out furthest first; the heuristic wants them closest first.
                int found = ctx.Results.Count;
                for (int i = found - 1; i >= 0; i--)
                {
                    scratch.CandidateDistance[i] = ctx.Results.TopDistance;
                    scratch.CandidateNode[i] = ctx.Results.TopNode;
                    ctx.Results.Pop();
                }
                entry = scratch.CandidateNode[0];
                int kept = SelectHeuristic(scratch.CandidateDistance, scratch.CandidateNode, found, M, scratch.KeptDistance, scratch.KeptNode);
                lock (_locks[node % LockStripes])
                {
                    var (array, offset) = List(node, l);
                    Array.Copy(scratch.KeptNode, 0, array, offset + 1, kept);
                    array[offset] = kept;
                }
                for (int i = 0; i < kept; i++)
                {
                    Connect(scratch.KeptNode[i], node, scratch.KeptDistance[i], l, scratch);
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

    /// <summary>The array and offset of a node's list at a level: [count, neighbours...].</summary>
    private (int[] Array, int Offset) List(int node, int level) =>
        level == 0 ? (Links0, node * (M0 + 1)) : (Upper[node]!, (level - 1) * (M + 1));

    /// <summary>Adds <paramref name="node"/> to <paramref name="neighbor"/>'s list, re-selecting by the heuristic when full.</summary>
    private void Connect(int neighbor, int node, float distance, int level, SearchContext.BuildScratch scratch)
    {
        int capacity = level == 0 ? M0 : M;
        lock (_locks[neighbor % LockStripes])
        {
            var (array, offset) = List(neighbor, level);
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
            var dist = scratch.ConnectDistance;
            var nodes = scratch.ConnectNode;
            dist[0] = distance;
            nodes[0] = node;
            for (int i = 0; i < count; i++)
            {
                int other = array[offset + 1 + i];
                dist[i + 1] = Vectors.Distance(neighbor, other);
                nodes[i + 1] = other;
            }
            Array.Sort(dist, nodes, 0, count + 1);
            int kept = SelectHeuristic(dist, nodes, count + 1, capacity, scratch.ConnectKeptDistance, scratch.ConnectKeptNode);
            Array.Copy(scratch.ConnectKeptNode, 0, array, offset + 1, kept);
            array[offset] = kept;
        }
    }

    /// <summary>
    /// The paper's neighbour heuristic: walking candidates closest first, keep one only if it is closer
    /// to the new node than to every neighbour already kept, so links spread in all directions.
    /// Writes the kept pairs to the output arrays and returns how many.
    /// </summary>
    private int SelectHeuristic(float[] distance, int[] candidate, int count, int max, float[] keptDistance, int[] keptNode)
    {
        if (count <= max)
        {
            Array.Copy(distance, keptDistance, count);
            Array.Copy(candidate, keptNode, count);
            return count;
        }
        int kept = 0;
        for (int c = 0; c < count && kept < max; c++)
        {
            float d = distance[c];
            int n = candidate[c];
            bool good = true;
            for (int k = 0; k < kept; k++)
            {
                if (Vectors.Distance(n, keptNode[k]) < d)
                {
                    good = false;
                    break;
                }
            }
            if (good)
            {
                keptDistance[kept] = d;
                keptNode[kept++] = n;
            }
        }
        return kept;
    }
}
