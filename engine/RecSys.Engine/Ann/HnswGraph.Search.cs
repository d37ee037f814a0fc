namespace RecSys.Engine.Ann;

internal sealed partial class HnswGraph
{
    /// <summary>
    /// The ef closest allowed nodes to the query, closest last in <see cref="SearchContext.Results"/>
    /// (a furthest-first heap). Excluded nodes still carry the walk (they are visited and expanded)
    /// but never enter the results, so exclusions do not cut recall: the search simply goes on until
    /// it holds ef allowed nodes.
    /// </summary>
    internal void SearchLayer(ReadOnlySpan<float> query, int entry, int ef, int level, SearchContext ctx)
    {
        var candidates = ctx.Candidates;
        var results = ctx.Results;
        candidates.Clear();
        results.Clear();
        ctx.NewVisit();
        float d0 = Vectors.Distance(query, entry);
        ctx.Visit(entry);
        candidates.Push(d0, entry);
        if (!ctx.IsExcluded(entry)) results.Push(d0, entry);
        while (candidates.Count > 0)
        {
            float d = candidates.TopDistance;
            int node = candidates.TopNode;
            if (results.Count >= ef && d > results.TopDistance) break;
            candidates.Pop();
            var (neighbors, start, n) = Neighbors(node, level, ctx);
            // First pass: mark the unvisited neighbours and ask for all their rows at once, so the
            // cache misses overlap instead of being paid one after another.
            int[] fresh = ctx.Fresh;
            int count = 0;
            for (int i = 0; i < n; i++)
            {
                int next = neighbors[start + i];
                if (!ctx.Visit(next)) continue;
                Vectors.Prefetch(next);
                fresh[count++] = next;
            }
            for (int i = 0; i < count; i++)
            {
                int next = fresh[i];
                float dn = Vectors.Distance(query, next);
                if (results.Count < ef || dn < results.TopDistance)
                {
                    candidates.Push(dn, next);
                    if (!ctx.IsExcluded(next))
                    {
                        results.Push(dn, next);
                        if (results.Count > ef) results.Pop();
                    }
                }
            }
        }
    }

    /// <summary>
    /// A node's neighbour list at a level: read in place once the graph is frozen, copied under the
    /// node's lock while it is still being built.
    /// </summary>
    private (int[] Array, int Start, int Count) Neighbors(int node, int level, SearchContext ctx)
    {
        if (_frozen)
        {
            if (level == 0)
            {
                int offset = node * (M0 + 1);
                return (Links0, offset + 1, Links0[offset]);
            }
            int[] up = Upper[node]!;
            int o = (level - 1) * (M + 1);
            return (up, o + 1, up[o]);
        }
        return (ctx.Neighbors, 0, ReadNeighbors(node, level, ctx.Neighbors));
    }

    /// <summary>Greedy descent through one upper level: the closest node reachable from <paramref name="entry"/>.</summary>
    internal int Greedy(ReadOnlySpan<float> query, int entry, int level, SearchContext ctx)
    {
        int current = entry;
        float best = Vectors.Distance(query, current);
        bool changed = true;
        while (changed)
        {
            changed = false;
            var (neighbors, start, n) = Neighbors(current, level, ctx);
            for (int i = 0; i < n; i++)
            {
                int next = neighbors[start + i];
                float d = Vectors.Distance(query, next);
                if (d < best)
                {
                    best = d;
                    current = next;
                    changed = true;
                }
            }
        }
        return current;
    }

    /// <summary>Search from the top: greedy through the upper levels, then ef-wide at level 0. Results land in ctx.Results.</summary>
    internal void Search(ReadOnlySpan<float> query, int ef, SearchContext ctx)
    {
        int entry = Entry;
        int top = TopLevel;
        if (entry < 0)
        {
            ctx.Results.Clear();
            return;
        }
        for (int level = top; level > 0; level--) entry = Greedy(query, entry, level, ctx);
        SearchLayer(query, entry, ef, 0, ctx);
    }
}
