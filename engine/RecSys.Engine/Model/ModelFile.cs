using RecSys.Engine.IO;
using System.Text;
using System.Text.Json;
using RecSys.Engine.Sparse;

namespace RecSys.Engine.Model;

/// <summary>
/// Reads and writes model.npz: the original design's four arrays (user_factors, item_factors,
/// user_ids, track_ids) plus RecSys extras (docs/model-format.md). Writing is atomic; reading
/// validates every entry and never returns a half-loaded model.
/// </summary>
public static class ModelFile
{
    public const string UserFactors = "user_factors";
    public const string ItemFactors = "item_factors";
    public const string UserIds = "user_ids";
    public const string TrackIds = "track_ids";
    public const string FormatVersion = "format_version";
    public const string Parameters = "params_json";
    public const string ItemPopularity = "item_popularity";
    public const string UserItemsIndptr = "user_items_indptr";
    public const string UserItemsIndices = "user_items_indices";
    public const string UserItemsData = "user_items_data";

    /// <summary>Writes to a temporary file beside <paramref name="path"/>, flushes it to disk, then renames it over the target.</summary>
    public static void Save(RecModel model, string path, bool compress = false)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        // What a writer of this same file killed mid-write left here (kill -9 during train: up to the
        // model's size, forever otherwise); only this target's own temporary names, in a folder a user chose.
        StaleTempFiles.Remove(dir, prefix: $".{Path.GetFileName(full)}.");
        string temp = Path.Combine(dir, "." + Path.GetFileName(StaleTempFiles.For(full)));
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 20))
            {
                using (var npz = new Npz.Writer(file, compress))
                {
                    int k = model.Factors;
                    npz.Add<float>(UserFactors, model.UserFactors, model.UserCount, k);
                    npz.Add<float>(ItemFactors, model.ItemFactors, model.ItemCount, k);
                    npz.Add<long>(UserIds, model.UserIds, model.UserCount);
                    npz.Add<long>(TrackIds, model.TrackIds, model.ItemCount);
                    npz.Add<long>(FormatVersion, [model.FormatVersion]);
                    if (model.ParametersJson is not null)
                    {
                        byte[] json = Encoding.UTF8.GetBytes(model.ParametersJson);
                        npz.Add<byte>(Parameters, json, json.Length);
                    }
                    if (model.ItemPopularity is not null)
                    {
                        npz.Add<float>(ItemPopularity, model.ItemPopularity, model.ItemCount);
                    }
                    if (model.UserItems is { } ui)
                    {
                        long[] indptr = Array.ConvertAll(ui.RowPtr, p => (long)p);
                        npz.Add<long>(UserItemsIndptr, indptr, indptr.Length);
                        npz.Add<int>(UserItemsIndices, ui.ColIndices.AsSpan(0, ui.Nnz), ui.Nnz);
                        npz.Add<float>(UserItemsData, ui.Values.AsSpan(0, ui.Nnz), ui.Nnz);
                    }
                }
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    public static RecModel Load(string path)
    {
        var entries = Npz.ReadAll(path);
        try
        {
            return FromEntries(entries);
        }
        catch (ModelFormatException e)
        {
            throw new ModelFormatException($"{path}: {e.Message}", e);
        }
    }

    private static RecModel FromEntries(Dictionary<string, NpyArray> entries)
    {
        int version = 1;
        if (entries.TryGetValue(FormatVersion, out var versionArray))
        {
            long[] v = versionArray.ToInt64();
            if (v.Length != 1) throw new ModelFormatException($"entry '{FormatVersion}': expected one value, found {v.Length}");
            if (v[0] < 1 || v[0] > RecModel.CurrentFormatVersion)
            {
                throw new ModelFormatException(
                    $"entry '{FormatVersion}': format version {v[0]} is not supported (this build reads 1..{RecModel.CurrentFormatVersion})");
            }
            version = (int)v[0];
        }

        var uf = Require(entries, UserFactors);
        var itf = Require(entries, ItemFactors);
        var uids = Require(entries, UserIds);
        var tids = Require(entries, TrackIds);
        RequireRank(uf, 2);
        RequireRank(itf, 2);
        RequireRank(uids, 1);
        RequireRank(tids, 1);
        if (uf.Shape[1] != itf.Shape[1])
        {
            throw new ModelFormatException($"entry '{UserFactors}' has {uf.Shape[1]} factors but '{ItemFactors}' has {itf.Shape[1]}");
        }
        if (uids.Shape[0] != uf.Shape[0])
        {
            throw new ModelFormatException($"entry '{UserIds}' has {uids.Shape[0]} ids but '{UserFactors}' has {uf.Shape[0]} rows");
        }
        if (tids.Shape[0] != itf.Shape[0])
        {
            throw new ModelFormatException($"entry '{TrackIds}' has {tids.Shape[0]} ids but '{ItemFactors}' has {itf.Shape[0]} rows");
        }
        int factors = checked((int)uf.Shape[1]);
        float[] userFactors = RequireFinite(uf, factors);
        float[] itemFactors = RequireFinite(itf, factors);
        long[] userIds = uids.ToInt64();
        long[] trackIds = tids.ToInt64();

        string? parameters = null;
        if (entries.TryGetValue(Parameters, out var p))
        {
            parameters = Encoding.UTF8.GetString(p.ToBytes());
            try
            {
                using var _ = JsonDocument.Parse(parameters);
            }
            catch (JsonException e)
            {
                throw new ModelFormatException($"entry '{Parameters}': not valid JSON: {e.Message}", e);
            }
        }

        float[]? popularity = null;
        if (entries.TryGetValue(ItemPopularity, out var pop))
        {
            RequireRank(pop, 1);
            popularity = RequireFinite(pop, 1);
        }

        CsrMatrix? userItems = ReadUserItems(entries, userIds.Length, trackIds.Length);
        return new RecModel(factors, userFactors, itemFactors, userIds, trackIds, parameters, popularity, userItems, version);
    }

    private static CsrMatrix? ReadUserItems(Dictionary<string, NpyArray> entries, int users, int items)
    {
        bool hasPtr = entries.TryGetValue(UserItemsIndptr, out var ptrArray);
        bool hasIdx = entries.TryGetValue(UserItemsIndices, out var idxArray);
        if (!hasPtr && !hasIdx)
        {
            return null;
        }
        if (!hasPtr || !hasIdx)
        {
            throw new ModelFormatException($"entries '{UserItemsIndptr}' and '{UserItemsIndices}' must appear together");
        }
        long[] ptr = ptrArray!.ToInt64();
        int[] idx = idxArray!.ToInt32();
        if (ptr.Length != users + 1)
        {
            throw new ModelFormatException($"entry '{UserItemsIndptr}' has {ptr.Length} values, expected users + 1 = {users + 1}");
        }
        if (ptr[0] != 0 || ptr[^1] != idx.Length)
        {
            throw new ModelFormatException($"entry '{UserItemsIndptr}' must start at 0 and end at {idx.Length} (the number of indices)");
        }
        var rowPtr = new int[ptr.Length];
        for (int r = 0; r < users; r++)
        {
            if (ptr[r + 1] < ptr[r])
            {
                throw new ModelFormatException($"entry '{UserItemsIndptr}' decreases at row {r}");
            }
            if (ptr[r + 1] > idx.Length)
            {
                throw new ModelFormatException($"entry '{UserItemsIndptr}' points past the {idx.Length} indices at row {r} ({ptr[r + 1]})");
            }
            rowPtr[r + 1] = (int)ptr[r + 1];
            for (long k = ptr[r]; k < ptr[r + 1]; k++)
            {
                if ((uint)idx[k] >= (uint)items)
                {
                    throw new ModelFormatException($"entry '{UserItemsIndices}': item index {idx[k]} at position {k} is outside 0..{items - 1}");
                }
            }
        }
        float[] data;
        if (entries.TryGetValue(UserItemsData, out var dataArray))
        {
            data = RequireFinite(dataArray, 1);
            if (data.Length != idx.Length)
            {
                throw new ModelFormatException($"entry '{UserItemsData}' has {data.Length} values, expected {idx.Length}");
            }
        }
        else
        {
            data = new float[idx.Length];
            data.AsSpan().Fill(1f);
        }
        return new CsrMatrix(users, items, rowPtr, idx, data);
    }

    private static NpyArray Require(Dictionary<string, NpyArray> entries, string name) =>
        entries.TryGetValue(name, out var a)
            ? a
            : throw new ModelFormatException($"missing entry '{name}' (found: {string.Join(", ", entries.Keys.Order())})");

    private static void RequireRank(NpyArray a, int rank)
    {
        if (a.Shape.Length != rank)
        {
            throw new ModelFormatException($"entry '{a.Name}' has shape {a.ShapeText}, expected {rank} dimension{(rank == 1 ? "" : "s")}");
        }
    }

    private static float[] RequireFinite(NpyArray a, int width)
    {
        float[] values = a.ToFloat32();
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                string where = width > 1 ? $"row {i / width}, column {i % width}" : $"position {i}";
                throw new ModelFormatException($"entry '{a.Name}': non-finite value {values[i]} at {where}");
            }
        }
        return values;
    }
}
