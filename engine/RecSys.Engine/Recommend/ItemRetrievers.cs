using RecSys.Engine.Ann;
using RecSys.Engine.Model;

namespace RecSys.Engine.Recommend;

/// <summary>
/// The two retrieval indexes a model needs: inner product over item factors (user top-N) and cosine
/// over item factors (similar tracks). Exact below the configured catalog size, HNSW above it; a saved
/// HNSW index beside the model is used when it matches the factors, otherwise rebuilt (and saved).
/// User top-N scans items by falling norm first (<see cref="NormPrunedRetriever"/>) when that proves
/// most sampled users' answers exact within the budget, with the graph as the fallback.
/// </summary>
public sealed class ItemRetrievers
{
    public const string InnerProductFile = "index-ip.hnsw";
    public const string CosineFile = "index-cosine.hnsw";

    private ItemRetrievers(IItemRetriever userTopN, IItemRetriever similar, IReadOnlyList<string> notes, string signature)
    {
        UserTopN = userTopN;
        Similar = similar;
        Notes = notes;
        Signature = signature;
    }

    /// <summary>
    /// Which retrievers answer and with which settings: what precomputed lists are tied to besides the
    /// model (lists ranked with other settings are recomputed).
    /// </summary>
    public string Signature { get; }

    public IItemRetriever UserTopN { get; }
    public IItemRetriever Similar { get; }

    /// <summary>What happened while creating them (index loaded, rebuilt and why), for logs.</summary>
    public IReadOnlyList<string> Notes { get; }

    public static ItemRetrievers Exact(RecModel model) => Exact(model, "exact retrieval");

    private static ItemRetrievers Exact(RecModel model, string note) => new(
        new NormPrunedRetriever(model.ItemFactors, model.Factors),
        new ExactRetriever(model.ItemFactors, model.Factors, RetrievalMetric.Cosine),
        [note],
        "exact");

    /// <summary>
    /// Creates the retrievers for a model. With an <paramref name="indexDirectory"/>, HNSW indexes are
    /// loaded from there when valid, and built and saved there otherwise.
    /// </summary>
    public static ItemRetrievers Create(RecModel model, RetrievalOptions options, string? indexDirectory = null)
    {
        options.Validate();
        if (model.ItemCount < options.AnnThreshold)
        {
            return Exact(model, $"exact retrieval: {model.ItemCount} items is below the HNSW threshold of {options.AnnThreshold}");
        }
        var notes = new List<string>();
        var graph = LoadOrBuild(model, RetrievalMetric.InnerProduct, options, indexDirectory, InnerProductFile, options.EfSearchInnerProduct, notes);
        var cos = LoadOrBuild(model, RetrievalMetric.Cosine, options, indexDirectory, CosineFile, options.EfSearchCosine, notes);
        // One search per core can run at once: their scratch is allocated here, not by the first requests
        // (the inner-product graph's below, where it answers alone rather than as the scan's fallback).
        cos.ReserveSearchContexts(Environment.ProcessorCount);
        IItemRetriever ip = graph;
        if (options.NormScanBudget > 0)
        {
            var scan = new NormPrunedRetriever(model.ItemFactors, model.Factors, options.NormScanBudget, ip);
            var (sample, users) = SampleUsers(model, NormScanSampleUsers);
            // Judged as served: each sampled user's heard tracks are excluded, which pushes the scan deeper.
            double share = scan.ExactShare(sample, NormScanSampleK, model.UserItems is { } heard ? row => heard.RowIndices(users[row]) : null);
            bool use = share >= options.NormScanMinExactShare;
            notes.Add($"norm-ordered scan proves {share:P1} of {Math.Min(model.UserCount, NormScanSampleUsers)} sampled users exact within {options.NormScanBudget} items: "
                + (use ? "user top-N scans first, HNSW for the rest" : "user top-N uses HNSW alone"));
            if (use) ip = scan;
        }
        if (ReferenceEquals(ip, graph)) graph.ReserveSearchContexts(Environment.ProcessorCount);
        // RetrievalOptions is a record: its text names every setting, the graph's included.
        string signature = $"{ip.GetType().Name}+{cos.GetType().Name}: {options}";
        return new(ip, cos, notes, signature);
    }

    private const int NormScanSampleUsers = 256;

    /// <summary>The /ml endpoint's default limit.</summary>
    private const int NormScanSampleK = 20;

    /// <summary>Evenly spaced users (deterministic): the queries the scan is judged on, and who they are.</summary>
    private static (float[] Vectors, int[] Users) SampleUsers(RecModel model, int count)
    {
        int n = Math.Min(count, model.UserCount);
        var sample = new float[n * model.Factors];
        var users = new int[n];
        for (int i = 0; i < n; i++)
        {
            int user = users[i] = (int)((long)i * model.UserCount / n);
            model.UserFactors.AsSpan(user * model.Factors, model.Factors).CopyTo(sample.AsSpan(i * model.Factors));
        }
        return (sample, users);
    }

    private static HnswRetriever LoadOrBuild(RecModel model, RetrievalMetric metric, RetrievalOptions options, string? directory, string file, int ef, List<string> notes)
    {
        string? path = directory is null ? null : Path.Combine(directory, file);
        if (path is not null && File.Exists(path))
        {
            try
            {
                var loaded = HnswRetriever.Load(path, model.ItemFactors, model.Factors, metric, options.InnerProductMode, ef);
                notes.Add($"loaded {path}");
                return loaded;
            }
            catch (IndexFormatException e)
            {
                notes.Add($"rebuilding {metric} index: {e.Message}");
            }
        }
        var started = System.Diagnostics.Stopwatch.StartNew();
        var built = HnswRetriever.Build(model.ItemFactors, model.Factors, metric, options.Hnsw with { EfSearch = ef }, options.InnerProductMode);
        notes.Add($"built {metric} HNSW over {model.ItemCount} items in {started.Elapsed.TotalSeconds:F2} s");
        if (path is not null)
        {
            try
            {
                Directory.CreateDirectory(directory!);
                built.Save(path);
            }
            catch (IOException e)
            {
                notes.Add($"could not save {path}: {e.Message}");
            }
            catch (UnauthorizedAccessException e)
            {
                notes.Add($"could not save {path}: {e.Message}");
            }
        }
        return built;
    }
}
