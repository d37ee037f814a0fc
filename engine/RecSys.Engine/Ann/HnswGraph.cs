using System.Collections.Concurrent;
using RecSys.Engine.Compute;
using RecSys.Engine.Data;

namespace RecSys.Engine.Ann;

/// <summary>
/// A hierarchical navigable small-world graph (Malkov &amp; Yashunin 2016) over a <see cref="VectorStore"/>.
/// Level 0 is one flat array of fixed-stride records [count, neighbours × 2M]; nodes on higher levels
/// keep their upper lists in one small array each. Neighbours are chosen by the paper's heuristic.
/// Build is parallel (striped node locks, as hnswlib); once frozen, searches read without locks.
/// </summary>
internal sealed partial class HnswGraph
{
    private const int LockStripes = 4096;
    private const int MaxLevel = 16;

    private readonly object[] _locks;
    private readonly object _entryLock = new();
    /// <summary>
    /// Free search contexts. A stack, not a ConcurrentBag: a bag keeps per-thread lists in a ThreadLocal,
    /// whose slot on every thread that ever returned a context holds the contexts, and through them this
    /// graph, alive after the graph is replaced.
    /// </summary>
    private readonly ConcurrentStack<SearchContext> _contexts = new();
    private volatile bool _frozen;

    internal HnswGraph(VectorStore vectors, int m)
    {
        Vectors = vectors;
        M = m;
        M0 = 2 * m;
        Links0 = new int[(long)vectors.Count * (M0 + 1)];
        Upper = new int[vectors.Count][];
        Levels = new int[vectors.Count];
        _locks = new object[LockStripes];
        for (int i = 0; i < _locks.Length; i++) _locks[i] = new object();
    }

    public VectorStore Vectors { get; }
    public int M { get; }
    public int M0 { get; }
    public int[] Links0 { get; }
    public int[]?[] Upper { get; }
    public int[] Levels { get; }
    /// <summary>Entry node and top level packed in one word, so a reader never sees one without the other.</summary>
    private long _entryState = -1L & 0xFFFFFFFFL | (-1L << 32);

    public int Entry => (int)Volatile.Read(ref _entryState);
    public int TopLevel => (int)(Volatile.Read(ref _entryState) >> 32);

    private void SetEntry(int node, int level) => Volatile.Write(ref _entryState, (uint)node | ((long)level << 32));
    public int Count => Vectors.Count;

    /// <summary>Builds the graph over all vectors: node 0 first, the rest on <paramref name="threads"/> workers.</summary>
    public static HnswGraph Build(VectorStore vectors, HnswOptions options)
    {
        options.Validate();
        var graph = new HnswGraph(vectors, options.M);
        double levelMultiplier = 1 / Math.Log(options.M);
        for (int i = 0; i < vectors.Count; i++)
        {
            var rng = new SplitMix(options.Seed, (ulong)i + 1);
            graph.Levels[i] = Math.Min(MaxLevel, (int)(-Math.Log(1 - rng.NextDouble()) * levelMultiplier));
            if (graph.Levels[i] > 0) graph.Upper[i] = new int[graph.Levels[i] * (options.M + 1)];
        }
        if (vectors.Count > 0)
        {
            graph.Insert(0, options.EfConstruction);
            int threads = options.Threads > 0 ? options.Threads : Environment.ProcessorCount;
            RowScheduler.Run(vectors.Count - 1, threads, 64, () => 0, (start, end, _) =>
            {
                for (int i = start; i < end; i++) graph.Insert(i + 1, options.EfConstruction);
            });
        }
        graph._frozen = true;
        return graph;
    }

    /// <summary>Restores a graph from saved links (persistence); it is frozen.</summary>
    internal static HnswGraph Restore(VectorStore vectors, int m, int[] levels, int[] links0, int[]?[] upper, int entry, int topLevel)
    {
        var graph = new HnswGraph(vectors, m);
        links0.CopyTo(graph.Links0, 0);
        levels.CopyTo(graph.Levels, 0);
        upper.CopyTo(graph.Upper, 0);
        graph.SetEntry(entry, topLevel);
        graph._frozen = true;
        return graph;
    }

    /// <summary>
    /// A search context of this graph, from its pool (filled when the index loads, see
    /// <see cref="ReserveContexts"/>), or a new one when more searches run at once than it holds. No
    /// thread keeps one between searches: a context cached per thread kept its graph alive after a
    /// model swap for as long as that thread did not search again.
    /// </summary>
    internal SearchContext RentContext() => _contexts.TryPop(out var context) ? context : new SearchContext(this, Count, M0);

    internal void ReturnContext(SearchContext context) => _contexts.Push(context);

    /// <summary>
    /// Fills the pool to <paramref name="count"/> contexts now (each holds two int arrays the size of the
    /// graph), so the first searches after the graph starts serving do not allocate them on request threads.
    /// </summary>
    internal void ReserveContexts(int count)
    {
        for (int i = _contexts.Count; i < count; i++) _contexts.Push(new SearchContext(this, Count, M0));
    }

    internal int PooledContexts => _contexts.Count;

    /// <summary>Copies a node's neighbour list at a level into <paramref name="buffer"/> under its lock; returns the count.</summary>
    private int ReadNeighbors(int node, int level, int[] buffer)
    {
        lock (_locks[node % LockStripes])
        {
            var (array, offset) = List(node, level);
            int count = array[offset];
            Array.Copy(array, offset + 1, buffer, 0, count);
            return count;
        }
    }
}
