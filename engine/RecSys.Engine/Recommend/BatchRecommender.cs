using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using RecSys.Engine.Ann;
using RecSys.Engine.Compute;
using RecSys.Engine.Model;

namespace RecSys.Engine.Recommend;

/// <summary>
/// Top-N for many users on the CPU, exact: users go four at a time through the items in order of
/// falling norm (<see cref="NormOrderedItems"/>), scored by <see cref="BlockScores"/> 32 items a step, each
/// user into their own heap, heard tracks excluded. A user drops out of the block once no item left
/// can enter their heap (‖u‖·‖y‖ below their k-th score); the block ends when all four have. Four
/// blocks walk the catalog together a 256 KB chunk at a time, so a chunk read from memory is scored
/// for sixteen users from L2 (where pruning cannot end scans early, the walk is bound by memory).
/// Ties go to the lower item index, as in every other top-N here.
/// </summary>
public sealed class BatchRecommender : IBatchRanker
{
    /// <summary>Users per slice handed to <see cref="RankAll"/>'s writer.</summary>
    private const int Slice = 4096;

    private const int Users = BlockScores.Users;
    private const int Step = BlockScores.Rows;

    private readonly RecModel _model;
    private readonly NormOrderedItems _items;

    public BatchRecommender(RecModel model, int threads = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        Threads = threads;
        _model = model;
        _items = new NormOrderedItems(model.ItemFactors, model.Factors);
    }

    /// <summary>Worker threads (0: all cores).</summary>
    public int Threads { get; }

    public string Device => $"cpu ({(Threads > 0 ? Threads : Environment.ProcessorCount)} threads, four users a step)";

    public void RankAll(int[] users, int k, bool excludeHeard, Action<int, ScoredIndex[][]> write)
    {
        // Checked before the first slice is written, not part-way through the file.
        Check(users, k);
        for (int start = 0; start < users.Length; start += Slice)
        {
            write(start, Recommend(users.AsSpan(start, Math.Min(Slice, users.Length - start)), k, excludeHeard));
        }
    }

    private void Check(ReadOnlySpan<int> users, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        foreach (int u in users) ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)u, (uint)_model.UserCount, nameof(users));
    }

    /// <summary>Items scored, summed over all users of the last call: the work pruning left (for reports).</summary>
    public long ScoredItems { get; private set; }

    /// <summary>The top <paramref name="k"/> of each user (dense indices); result[i] belongs to users[i]. Threads: <see cref="Threads"/> unless given.</summary>
    public ScoredIndex[][] Recommend(ReadOnlySpan<int> users, int k, bool excludeHeard = true, int? threads = null)
    {
        Check(users, k);
        int workers = threads ?? Threads;
        var result = new ScoredIndex[users.Length][];
        int[] list = users.ToArray();
        int groups = (list.Length + GroupUsers - 1) / GroupUsers;
        long scored = 0;
        RowScheduler.Run(groups, workers > 0 ? workers : Environment.ProcessorCount, 2, () => new Scratch(_model.Factors, Math.Min(k, _items.Count)), (start, end, scratch) =>
        {
            long mine = 0;
            for (int g = start; g < end; g++)
            {
                int first = g * GroupUsers;
                mine += RankGroup(list.AsSpan(first, Math.Min(GroupUsers, list.Length - first)), excludeHeard, scratch, result.AsSpan(first));
            }
            Interlocked.Add(ref scored, mine);
        });
        ScoredItems = scored;
        return result;
    }

    /// <summary>Blocks of four users that walk the catalog together, a cache-sized chunk of items at a time.</summary>
    private const int GroupBlocks = 4;
    private const int GroupUsers = GroupBlocks * Users;

    /// <summary>Bytes of item factors a chunk holds: the group re-reads them from L2 rather than memory.</summary>
    private const int ChunkBytes = 256 * 1024;

    /// <summary>One block's users: their vectors, bounds, heaps and heard tracks (as sorted scan positions).</summary>
    private sealed class Block(int factors, int capacity)
    {
        public readonly float[] Queries = new float[Users * factors];
        public readonly float[] Bounds = new float[Users];
        public readonly TopK[] Heaps = [.. Enumerable.Range(0, Users).Select(_ => new TopK(capacity))];
        public readonly int[][] Excluded = [.. Enumerable.Range(0, Users).Select(_ => new int[16])];
        public readonly int[] ExcludedCount = new int[Users];
        public readonly int[] NextExcluded = new int[Users];
        public readonly bool[] Done = new bool[Users];
        public int Count;
        public bool Finished;
    }

    private sealed class Scratch(int factors, int capacity)
    {
        public readonly Block[] Blocks = [.. Enumerable.Range(0, GroupBlocks).Select(_ => new Block(factors, capacity))];
        public readonly float[] Scores = new float[Users * Step];
    }

    /// <summary>Ranks up to <see cref="GroupUsers"/> users into <paramref name="into"/>; returns the items scored for them.</summary>
    private long RankGroup(ReadOnlySpan<int> users, bool excludeHeard, Scratch s, Span<ScoredIndex[]> into)
    {
        int blocks = (users.Length + Users - 1) / Users;
        for (int b = 0; b < blocks; b++)
        {
            int first = b * Users;
            Start(s.Blocks[b], users.Slice(first, Math.Min(Users, users.Length - first)), excludeHeard);
        }
        int count = _items.Count;
        int chunk = Math.Max(Step, ChunkBytes / (4 * _model.Factors) / Step * Step);
        long scored = 0;
        for (int from = 0; from < count; from += chunk)
        {
            int to = Math.Min(count, from + chunk);
            bool any = false;
            for (int b = 0; b < blocks; b++)
            {
                var block = s.Blocks[b];
                if (block.Finished) continue;
                scored += Advance(block, from, to, s.Scores);
                any |= !block.Finished;
            }
            if (!any) break;
        }
        for (int b = 0; b < blocks; b++)
        {
            var block = s.Blocks[b];
            for (int u = 0; u < block.Count; u++) into[b * Users + u] = block.Heaps[u].Drain();
        }
        return scored;
    }

    private void Start(Block block, ReadOnlySpan<int> users, bool excludeHeard)
    {
        int k = _model.Factors;
        int n = users.Length;
        block.Count = n;
        block.Finished = false;
        Array.Clear(block.Queries);
        for (int u = 0; u < Users; u++)
        {
            block.Heaps[u].Clear();
            block.NextExcluded[u] = 0;
            block.ExcludedCount[u] = 0;
            // The padding rows of a short block have nothing to rank.
            block.Done[u] = u >= n || block.Heaps[u].Capacity == 0;
            if (u >= n) continue;
            var vector = _model.UserVector(users[u]);
            vector.CopyTo(block.Queries.AsSpan(u * k, k));
            block.Bounds[u] = TensorPrimitives.Norm(vector) * (1 + NormOrderedItems.BoundSlack);
            if (excludeHeard && _model.UserItems is { } heard)
            {
                var row = heard.RowIndices(users[u]);
                if (block.Excluded[u].Length < row.Length) block.Excluded[u] = new int[Math.Max(row.Length, 2 * block.Excluded[u].Length)];
                block.ExcludedCount[u] = _items.SortedPositions(row, block.Excluded[u]);
            }
        }
    }

    /// <summary>Scores a block over scan positions [from, to) (a whole number of steps unless at the end); returns the items scored.</summary>
    /// <remarks>Optimised at once: a batch command is over before tiered compilation would promote its loops.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private long Advance(Block s, int from, int to, float[] scores)
    {
        int k = _model.Factors;
        int n = s.Count;
        var norms = _items.Norms;
        long scored = 0;
        for (int p = from; p < to; p += Step)
        {
            int active = 0;
            for (int u = 0; u < n; u++)
            {
                if (s.Done[u]) continue;
                var heap = s.Heaps[u];
                if (heap.Count == heap.Capacity && s.Bounds[u] * norms[p] < heap.WorstScore) s.Done[u] = true;
                else active++;
            }
            if (active == 0)
            {
                s.Finished = true;
                break;
            }
            int tile = p / TiledScores.Width;
            if (active > Users / 2)
            {
                BlockScores.Score(_items.Tiles, tile, k, s.Queries, scores);
            }
            else
            {
                // Most of the block is done: scoring it whole would cost more than scoring the rest alone.
                for (int u = 0; u < n; u++)
                {
                    if (s.Done[u]) continue;
                    var query = s.Queries.AsSpan(u * k, k);
                    TiledScores.Score(_items.Tiles, tile, k, query, scores.AsSpan(u * Step, TiledScores.Width));
                    TiledScores.Score(_items.Tiles, tile + 1, k, query, scores.AsSpan(u * Step + TiledScores.Width, TiledScores.Width));
                }
            }
            int rows = Math.Min(Step, to - p);
            scored += (long)rows * active;
            for (int u = 0; u < n; u++)
            {
                if (!s.Done[u]) Push(scores.AsSpan(u * Step, rows), p, s.Heaps[u], s.Excluded[u].AsSpan(0, s.ExcludedCount[u]), ref s.NextExcluded[u]);
            }
        }
        return scored;
    }

    /// <summary>Offers one step's scores to a heap (as <see cref="NormPrunedRetriever"/> does for one query).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Push(ReadOnlySpan<float> scores, int p, TopK heap, ReadOnlySpan<int> excluded, ref int nextExcluded)
    {
        float bar = heap.Count == heap.Capacity ? heap.WorstScore : float.NegativeInfinity;
        // Once the heap is full almost no score reaches the bar: find the few that do a vector at a time.
        for (uint candidates = Candidates(scores, bar); candidates != 0; candidates &= candidates - 1)
        {
            int i = BitOperations.TrailingZeroCount(candidates);
            if (scores[i] < bar) continue;
            int position = p + i;
            while (nextExcluded < excluded.Length && excluded[nextExcluded] < position) nextExcluded++;
            if (nextExcluded < excluded.Length && excluded[nextExcluded] == position) continue;
            heap.Push(scores[i], _items.Order[position]);
            if (heap.Count == heap.Capacity) bar = heap.WorstScore;
        }
    }

    /// <summary>Bit i set where scores[i] is not below the bar (NaN included, as the scalar test has it); at most 32 scores.</summary>
    internal static uint Candidates(ReadOnlySpan<float> scores, float bar)
    {
        if (scores.Length == Step)
        {
            ref float s = ref MemoryMarshal.GetReference(scores);
            if (Vector512.IsHardwareAccelerated)
            {
                var b = Vector512.Create(bar);
                ulong below = Vector512.LessThan(Vector512.LoadUnsafe(ref s), b).ExtractMostSignificantBits()
                    | Vector512.LessThan(Vector512.LoadUnsafe(ref s, 16), b).ExtractMostSignificantBits() << 16;
                return ~(uint)below;
            }
            if (Vector256.IsHardwareAccelerated)
            {
                var b = Vector256.Create(bar);
                uint below = Vector256.LessThan(Vector256.LoadUnsafe(ref s), b).ExtractMostSignificantBits()
                    | Vector256.LessThan(Vector256.LoadUnsafe(ref s, 8), b).ExtractMostSignificantBits() << 8
                    | Vector256.LessThan(Vector256.LoadUnsafe(ref s, 16), b).ExtractMostSignificantBits() << 16
                    | Vector256.LessThan(Vector256.LoadUnsafe(ref s, 24), b).ExtractMostSignificantBits() << 24;
                return ~below;
            }
        }
        return CandidatesScalar(scores, bar);
    }

    internal static uint CandidatesScalar(ReadOnlySpan<float> scores, float bar)
    {
        uint candidates = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            if (!(scores[i] < bar)) candidates |= 1u << i;
        }
        return candidates;
    }
}
