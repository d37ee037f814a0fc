using RecSys.Engine.Als;
using RecSys.Engine.Ann;
using RecSys.Engine.Compute;
using RecSys.Engine.Model;
using RecSys.Engine.Sparse;

namespace RecSys.Engine.Recommend;

/// <summary>
/// Recommendations over a model: user top-N by dot product (heard tracks excluded by default), batch
/// top-N in parallel, similar items and users by cosine, fold-in of unknown users, popularity. Top-N
/// and similar items go through <see cref="ItemRetrievers"/> (exact scan, or HNSW for large catalogs).
/// Thread-safe once built: <see cref="Precompute"/>, the one method that sets state, is called before
/// the recommender is shared (the host calls it while loading a version, before publishing it).
/// </summary>
public sealed class Recommender
{
    private readonly RecModel _model;
    private readonly Lazy<float[]> _itemGram;
    private readonly Lazy<float[]> _userGram;
    private readonly Lazy<int[]> _popularOrder;
    private readonly double? _bm25AverageLength;
    private readonly RowRegularization _rowRegularization;
    private readonly float _bm25K1, _bm25B;

    private readonly ItemRetrievers _retrievers;
    private readonly Lazy<ExactRetriever> _userCosine;

    public Recommender(RecModel model, float? regularization = null, ItemRetrievers? retrievers = null)
    {
        _model = model;
        _retrievers = retrievers ?? ItemRetrievers.Exact(model);
        RetrievalNotes = _retrievers.Notes;
        _userCosine = new(() => new ExactRetriever(model.UserFactors, model.Factors, RetrievalMetric.Cosine));
        var parameters = TrainingParameters.FromJson(model.ParametersJson);
        Regularization = regularization ?? parameters?.Regularization ?? new AlsOptions().Regularization;
        Alpha = parameters?.Alpha ?? new AlsOptions().Alpha;
        Scaling = parameters?.ConfidenceScaling ?? ConfidenceScaling.Linear;
        _bm25AverageLength = parameters is { Bm25: true, Bm25AverageLength: > 0 } ? parameters.Bm25AverageLength : null;
        (_bm25K1, _bm25B) = (parameters?.Bm25K1 ?? 100f, parameters?.Bm25B ?? 0.8f);
        // The system a training step solves: frequency-scaled λ and the unobserved weight as trained.
        _rowRegularization = TrainedRegularization(Regularization, parameters);
        _itemGram = new(() => Gramian.Compute(model.ItemFactors, model.ItemCount, model.Factors, _rowRegularization.GramDiagonal, Environment.ProcessorCount));
        // Only for tracks folded in between trainings (rare): built on first use, not at load.
        _userGram = new(() => Gramian.Compute(model.UserFactors, model.UserCount, model.Factors, _rowRegularization.GramDiagonal, Environment.ProcessorCount));
        _popularOrder = new(PopularOrder);
    }

    /// <summary>The model's row regularization, checked: a file whose values would give NaN factors is refused, not served.</summary>
    private static RowRegularization TrainedRegularization(float lambda, TrainingParameters? parameters)
    {
        var options = new AlsOptions
        {
            Regularization = lambda,
            RegularizationExponent = parameters?.RegularizationExponent ?? 0,
            RegularizationOffset = parameters?.RegularizationOffset ?? 1,
            UnobservedWeight = parameters?.UnobservedWeight ?? 1,
            Bm25K1 = parameters?.Bm25K1 ?? 100f,
            Bm25B = parameters?.Bm25B ?? 0.8f,
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new ModelFormatException($"params_json: {e.Message.Split(" (Parameter")[0]}");
        }
        return RowRegularization.From(options);
    }

    /// <summary>
    /// Builds what fold-in and popularity answers need (the item Gram matrix, the popularity order) now,
    /// so the first such request after a model swap does not build them, holding its thread and any
    /// request waiting on the same lazy value.
    /// </summary>
    public void Prepare()
    {
        _ = _itemGram.Value;
        _ = _popularOrder.Value;
    }

    internal bool Prepared => _itemGram.IsValueCreated && _popularOrder.IsValueCreated;

    /// <summary>Every known user's top-N (heard tracks excluded), when <see cref="Precompute"/> made them.</summary>
    public RankedLists? PersonalLists { get; private set; }

    /// <summary>Every track's similar tracks, when <see cref="Precompute"/> made them.</summary>
    public RankedLists? SimilarLists { get; private set; }

    /// <summary>
    /// Ranks every known user's top <paramref name="length"/> and every track's similar tracks now (or
    /// loads them from <paramref name="directory"/> when saved there for this model), so those answers
    /// are a lookup: the search a request would run, run once per model. Call before the recommender
    /// serves. Returns what happened, for logs.
    /// </summary>
    public IReadOnlyList<string> Precompute(int length, string? directory = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        var notes = new List<string>(_retrievers.Notes);
        PersonalLists = Precomputation.LoadOrBuild(_model, RankedListKind.Personal, length, directory, _retrievers.Signature,
            (user, k) => SearchUser(user, k, excludeHeard: true, excludeItems: default), notes);
        SimilarLists = Precomputation.LoadOrBuild(_model, RankedListKind.Similar, length, directory, _retrievers.Signature,
            (item, k) => _retrievers.Similar.Search(_model.ItemVector(item), k, [item]), notes);
        RetrievalNotes = notes;
        return notes;
    }

    /// <summary>How the retrievers were made and what was precomputed, for logs and /model.</summary>
    public IReadOnlyList<string> RetrievalNotes { get; private set; }


    public RecModel Model => _model;
    public ItemRetrievers Retrievers => _retrievers;
    public float Regularization { get; }
    public float Alpha { get; }
    public ConfidenceScaling Scaling { get; }

    /// <summary>Top-k items for a known user (dense index), heard tracks excluded unless asked otherwise.</summary>
    public ScoredIndex[] RecommendUser(int user, int k, bool excludeHeard = true, ReadOnlySpan<int> excludeItems = default)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)user, (uint)_model.UserCount, nameof(user));
        if (excludeHeard && excludeItems.IsEmpty && PersonalLists is { } lists && lists.TryGet(user, k, out var listed)) return listed;
        return SearchUser(user, k, excludeHeard, excludeItems);
    }

    /// <summary>The search behind a user's top-k, and behind their precomputed list.</summary>
    private ScoredIndex[] SearchUser(int user, int k, bool excludeHeard, ReadOnlySpan<int> excludeItems)
    {
        ReadOnlySpan<int> heard = excludeHeard && _model.UserItems is { } ui ? ui.RowIndices(user) : default;
        return RecommendVector(_model.UserVector(user), k, heard, excludeItems);
    }

    /// <summary>Top-k items for any user vector (a folded-in user), excluding the given item indices.</summary>
    public ScoredIndex[] RecommendVector(ReadOnlySpan<float> userVector, int k, ReadOnlySpan<int> exclude = default, ReadOnlySpan<int> excludeMore = default) =>
        _retrievers.UserTopN.Search(userVector, k, Merge(exclude, excludeMore));

    /// <summary>Top-k for many users at once, in parallel; result[i] belongs to users[i].</summary>
    public ScoredIndex[][] RecommendBatch(ReadOnlySpan<int> users, int k, bool excludeHeard = true, int threads = 0)
    {
        var result = new ScoredIndex[users.Length][];
        int[] list = users.ToArray();
        RowScheduler.Run(list.Length, threads > 0 ? threads : Environment.ProcessorCount, 16, () => 0, (start, end, _) =>
        {
            for (int i = start; i < end; i++) result[i] = RecommendUser(list[i], k, excludeHeard);
        });
        return result;
    }

    /// <summary>The k items most similar to an item by cosine, the item itself excluded.</summary>
    public ScoredIndex[] SimilarItems(int item, int k, ReadOnlySpan<int> exclude = default)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)item, (uint)_model.ItemCount, nameof(item));
        if (exclude.IsEmpty && SimilarLists is { } lists && lists.TryGet(item, k, out var listed)) return listed;
        return _retrievers.Similar.Search(_model.ItemVector(item), k, Merge([item], exclude));
    }

    /// <summary>The k users most similar to a user by cosine, the user itself excluded.</summary>
    public ScoredIndex[] SimilarUsers(int user, int k)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)user, (uint)_model.UserCount, nameof(user));
        return _userCosine.Value.Search(_model.UserVector(user), k, [user]);
    }

    /// <summary>The k × k system of a fold-in, per thread (32 KB at 64 factors: too much to allocate per request).</summary>
    [ThreadStatic] private static Cholesky.Scratch? t_foldInScratch;

    /// <summary>
    /// The factors of a user not in the model, from their (item index, raw weight) plays, by the exact
    /// least-squares solve a training step would make (implicit's recalculate_user).
    /// </summary>
    public float[] FoldIn(ReadOnlySpan<int> items, ReadOnlySpan<float> weights)
    {
        var (idx, raw) = Merge(items, weights, _model.ItemCount, nameof(items));
        if (_bm25AverageLength is { } average)
        {
            // The weighting the model was trained with: item document frequency from the training popularity.
            double rowSum = raw.Sum();
            var df = _model.ItemPopularity ?? new float[_model.ItemCount];
            for (int n = 0; n < idx.Length; n++) raw[n] = Confidence.Bm25Value(raw[n], rowSum, average, df[idx[n]], _model.UserCount, _bm25K1, _bm25B);
        }
        return Solve(_itemGram, _model.ItemFactors, idx, raw);
    }

    /// <summary>
    /// The factors of an item not in the model, from its listeners (user index, raw weight), by the exact
    /// solve an item step of training makes: how a track played since the training gets a vector. No
    /// BM25 here: that weighting is defined over user rows.
    /// </summary>
    public float[] FoldInItem(ReadOnlySpan<int> users, ReadOnlySpan<float> weights)
    {
        var (idx, raw) = Merge(users, weights, _model.UserCount, nameof(users));
        return Solve(_userGram, _model.UserFactors, idx, raw);
    }

    /// <summary>Indices sorted, duplicates' weights summed (as the training matrix merges them).</summary>
    private static (int[] Indices, float[] Weights) Merge(ReadOnlySpan<int> indices, ReadOnlySpan<float> weights, int count, string name)
    {
        if (indices.Length != weights.Length) throw new ArgumentException($"{name} and weights differ in length");
        var merged = new SortedDictionary<int, float>();
        for (int n = 0; n < indices.Length; n++)
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)indices[n], (uint)count, name);
            merged[indices[n]] = merged.GetValueOrDefault(indices[n]) + weights[n];
        }
        return ([.. merged.Keys], [.. merged.Values]);
    }

    /// <summary>The exact row solve against the other side's factors and Gram matrix, raw weights turned into confidence.</summary>
    private float[] Solve(Lazy<float[]> gram, float[] factors, int[] indices, float[] raw)
    {
        var x = new float[_model.Factors];
        if (indices.Length == 0) return x;
        float scale = _rowRegularization.ConfidenceScale;
        float[] confidence = raw.Select(w => Confidence.Apply(w, Scaling, Alpha) * scale).ToArray();
        var scratch = t_foldInScratch is { } s && s.B.Length == _model.Factors ? s : t_foldInScratch = new Cholesky.Scratch(_model.Factors);
        Cholesky.SolveRow(gram.Value, factors, _model.Factors, indices, confidence, x, scratch, _rowRegularization.RowDiagonal(indices.Length));
        return x;
    }

    /// <summary>The k most popular items (by number of users in training), excluding the given ones.</summary>
    public ScoredIndex[] Popular(int k, ReadOnlySpan<int> exclude = default)
    {
        var popularity = _model.ItemPopularity ?? new float[_model.ItemCount];
        var result = new List<ScoredIndex>(Math.Min(k, _model.ItemCount));
        foreach (int i in _popularOrder.Value)
        {
            if (result.Count >= k) break;
            if (exclude.Contains(i)) continue;
            result.Add(new ScoredIndex(i, popularity[i]));
        }
        return [.. result];
    }

    /// <summary>Both exclusion lists as one (no copy when either is empty).</summary>
    private static ReadOnlySpan<int> Merge(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        if (b.IsEmpty) return a;
        if (a.IsEmpty) return b;
        var merged = new int[a.Length + b.Length];
        a.CopyTo(merged);
        b.CopyTo(merged.AsSpan(a.Length));
        return merged;
    }

    private int[] PopularOrder()
    {
        var popularity = _model.ItemPopularity ?? new float[_model.ItemCount];
        int[] order = Enumerable.Range(0, _model.ItemCount).ToArray();
        // Most popular first; ties by index for determinism.
        Array.Sort(order, (a, c) => popularity[c] != popularity[a] ? popularity[c].CompareTo(popularity[a]) : a.CompareTo(c));
        return order;
    }
}
