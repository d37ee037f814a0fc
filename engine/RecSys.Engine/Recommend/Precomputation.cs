using RecSys.Engine.Ann;
using RecSys.Engine.Model;

namespace RecSys.Engine.Recommend;

/// <summary>
/// Loads a model's precomputed lists from beside it when they match, otherwise computes them and saves
/// them there: done when a version is loaded (promotion, start-up), never on a request.
/// </summary>
internal static class Precomputation
{
    public const string PersonalFile = "lists-personal.bin";
    public const string SimilarFile = "lists-similar.bin";

    /// <summary>
    /// The lists, or null (with a note) when they would not fit in one array; <paramref name="signature"/>
    /// names the retrievers and settings that rank them (<see cref="ItemRetrievers.Signature"/>).
    /// </summary>
    public static RankedLists? LoadOrBuild(RecModel model, RankedListKind kind, int length, string? directory, string signature,
        Func<int, int, ScoredIndex[]> rank, List<string> notes)
    {
        int rows = kind == RankedListKind.Personal ? model.UserCount : model.ItemCount;
        if ((long)rows * length > Array.MaxLength)
        {
            notes.Add($"no {kind} lists: {rows} rows × {length} is more than one array holds (lower Retrieval:PrecomputedLength)");
            return null;
        }
        string? path = directory is null ? null : Path.Combine(directory, kind == RankedListKind.Personal ? PersonalFile : SimilarFile);
        // Hashing the factors is only needed to tie a file to them: not for lists kept in memory alone.
        ulong fingerprint = path is null ? 0 : RankedListsFile.Fingerprint(model, kind, signature);
        if (path is not null && File.Exists(path))
        {
            try
            {
                var loaded = RankedListsFile.Load(path, kind, rows, length, model.ItemCount, fingerprint);
                notes.Add($"loaded {path}");
                return loaded;
            }
            catch (Exception e) when (e is IndexFormatException or IOException or UnauthorizedAccessException)
            {
                // A file that cannot be read costs a recomputation, never the version.
                notes.Add($"recomputing {kind} lists: {e.Message}");
            }
        }
        var started = System.Diagnostics.Stopwatch.StartNew();
        var built = RankedLists.Build(rows, length, rank, Environment.ProcessorCount);
        notes.Add($"computed {rows} {kind} lists of {length} in {started.Elapsed.TotalSeconds:F2} s ({built.Bytes >> 20} MB)");
        if (path is not null)
        {
            try
            {
                RankedListsFile.Save(path, built, kind, fingerprint);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                notes.Add($"could not save {path}: {e.Message}");
            }
        }
        return built;
    }
}
