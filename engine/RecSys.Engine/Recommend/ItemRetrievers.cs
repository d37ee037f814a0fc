using RecSys.Engine.Ann;
using RecSys.Engine.Model;

namespace RecSys.Engine.Recommend;

/// <summary>
/// The two retrieval indexes a model needs: inner product over item factors (user top-N) and cosine
/// over item factors (similar tracks). Exact below the configured catalog size, HNSW above it; a saved
/// HNSW index beside the model is used when it matches the factors, otherwise rebuilt (and saved).
/// </summary>
public sealed class ItemRetrievers
{
    public const string InnerProductFile = "index-ip.hnsw";
    public const string CosineFile = "index-cosine.hnsw";

    private ItemRetrievers(IItemRetriever userTopN, IItemRetriever similar, IReadOnlyList<string> notes)
    {
        UserTopN = userTopN;
        Similar = similar;
        Notes = notes;
    }

    public IItemRetriever UserTopN { get; }
    public IItemRetriever Similar { get; }

    /// <summary>What happened while creating them (index loaded, rebuilt and why), for logs.</summary>
    public IReadOnlyList<string> Notes { get; }

    public bool Approximate => UserTopN is HnswRetriever;

    public static ItemRetrievers Exact(RecModel model) => new(
        new ExactRetriever(model.ItemFactors, model.Factors, RetrievalMetric.InnerProduct),
        new ExactRetriever(model.ItemFactors, model.Factors, RetrievalMetric.Cosine),
        ["exact retrieval"]);

    /// <summary>
    /// Creates the retrievers for a model. With an <paramref name="indexDirectory"/>, HNSW indexes are
    /// loaded from there when valid, and built and saved there otherwise.
    /// </summary>
    public static ItemRetrievers Create(RecModel model, RetrievalOptions options, string? indexDirectory = null)
    {
        options.Validate();
        if (model.ItemCount < options.AnnThreshold)
        {
            return new(
                new ExactRetriever(model.ItemFactors, model.Factors, RetrievalMetric.InnerProduct),
                new ExactRetriever(model.ItemFactors, model.Factors, RetrievalMetric.Cosine),
                [$"exact retrieval: {model.ItemCount} items is below the HNSW threshold of {options.AnnThreshold}"]);
        }
        var notes = new List<string>();
        var ip = LoadOrBuild(model, RetrievalMetric.InnerProduct, options, indexDirectory, InnerProductFile, options.EfSearchInnerProduct, notes);
        var cos = LoadOrBuild(model, RetrievalMetric.Cosine, options, indexDirectory, CosineFile, options.EfSearchCosine, notes);
        return new(ip, cos, notes);
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
