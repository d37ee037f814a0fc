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
        int[] neighbors = ctx.Neighbors;
        while (candidates.Count > 0)
        {
            float d = candidates.TopDistance;
            int node = candidates.TopNode;
            if (results.Count >= ef && d > results.TopDistance) break;
            candidates.Pop();
            int n = ReadNeighbors(node, level, neighbors);
            for (int i = 0; i < n; i++)
            {
                int next = neighbors[i];
                if (!ctx.Visit(next)) continue;
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

    /// <summary>Greedy descent through one upper level: the closest node reachable from <paramref name="entry"/>.</summary>
    internal int Greedy(ReadOnlySpan<float> query, int entry, int level, SearchContext ctx)
    {
        int current = entry;
        float best = Vectors.Distance(query, current);
        int[] neighbors = ctx.Neighbors;
        bool changed = true;
        while (changed)
        {
            changed = false;
            int n = ReadNeighbors(current, level, neighbors);
            for (int i = 0; i < n; i++)
            {
                float d = Vectors.Distance(query, neighbors[i]);
                if (d < best)
                {
                    best = d;
                    current = neighbors[i];
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
