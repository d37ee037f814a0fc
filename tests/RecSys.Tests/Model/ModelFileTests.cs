using System.Diagnostics;
using System.IO.Compression;
using RecSys.Engine.Model;
using RecSys.Engine.Sparse;

namespace RecSys.Tests.Model;

public sealed class ModelFileTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", name);

    internal static RecModel SampleModel(int users = 3, int items = 4, int factors = 2)
    {
        var uf = Enumerable.Range(0, users * factors).Select(i => i * 0.25f - 1).ToArray();
        var itf = Enumerable.Range(0, items * factors).Select(i => 1f / (i + 1)).ToArray();
        long[] userIds = Enumerable.Range(0, users).Select(i => 10L * (users - i)).ToArray();
        long[] trackIds = Enumerable.Range(0, items).Select(i => 100L * (i + 1)).ToArray();
        var heard = CsrBuilder.FromCoo(users, items, [0, 0, users - 1], [1, items - 1, 0], [3, 1, 2]);
        return new RecModel(factors, uf, itf, userIds, trackIds, "{\"factors\":2}", [5, 4, 3, 2], heard);
    }

    [Fact]
    public void Round_trip_keeps_every_array()
    {
        var model = SampleModel();
        string path = _dir.File("model.npz");
        ModelFile.Save(model, path);
        var loaded = ModelFile.Load(path);
        Assert.Equal(model.UserFactors, loaded.UserFactors);
        Assert.Equal(model.ItemFactors, loaded.ItemFactors);
        Assert.Equal(model.UserIds, loaded.UserIds);
        Assert.Equal(model.TrackIds, loaded.TrackIds);
        Assert.Equal(model.ParametersJson, loaded.ParametersJson);
        Assert.Equal(model.ItemPopularity, loaded.ItemPopularity);
        Assert.Equal(model.UserItems!.RowPtr, loaded.UserItems!.RowPtr);
        Assert.Equal(model.UserItems.ColIndices, loaded.UserItems.ColIndices);
        Assert.Equal(model.UserItems.Values, loaded.UserItems.Values);
        Assert.Equal(1, loaded.FormatVersion);
        Assert.Equal(0, loaded.UserIndex.IndexOf(30));
        Assert.Single(Directory.GetFiles(_dir.Path));
    }

    [Fact]
    public void Compressed_round_trip()
    {
        string path = _dir.File("c.npz");
        ModelFile.Save(SampleModel(), path, compress: true);
        Assert.Equal(SampleModel().UserFactors, ModelFile.Load(path).UserFactors);
    }

    [Theory]
    [InlineData("numpy_savez.npz")]
    [InlineData("numpy_savez_compressed.npz")]
    [InlineData("numpy_converted.npz")]
    [InlineData("numpy_v2.npz")]
    public void Reads_what_numpy_writes(string fixture)
    {
        var m = ModelFile.Load(Fixture(fixture));
        Assert.Equal(2, m.Factors);
        Assert.Equal([10L, 20L, 30L], m.UserIds);
        Assert.Equal([100L, 200L, 300L, 400L], m.TrackIds);
        Assert.Equal(Enumerable.Range(0, 6).Select(i => (i + 1) / 8f), m.UserFactors);
        Assert.Equal(Enumerable.Range(0, 8).Select(i => (i - 3) / 4f), m.ItemFactors);
        Assert.Null(m.UserItems);
    }

    [Theory]
    [InlineData("numpy_object_ids.npz", "entry 'user_ids': dtype")]
    [InlineData("numpy_nan.npz", "entry 'user_factors': non-finite value NaN at row 2, column 0")]
    [InlineData("numpy_duplicate_ids.npz", "entry 'user_ids': duplicate user id 10")]
    [InlineData("numpy_missing_key.npz", "missing entry 'track_ids'")]
    [InlineData("numpy_shape_mismatch.npz", "has 2 factors but 'item_factors' has 1")]
    public void Refuses_bad_numpy_files_naming_entry_and_problem(string fixture, string expected)
    {
        var e = Assert.Throws<ModelFormatException>(() => ModelFile.Load(Fixture(fixture)));
        Assert.Contains(expected, e.Message);
        Assert.Contains(fixture, e.Message);
    }

    [Fact]
    public void Corrupt_byte_is_caught_by_crc()
    {
        string path = _dir.File("m.npz");
        ModelFile.Save(SampleModel(), path);
        byte[] bytes = File.ReadAllBytes(path);
        // The first entry is user_factors, stored: its data ends before the second local header.
        int second = IndexOf(bytes, "PK\u0003\u0004"u8.ToArray(), 4);
        bytes[second - 3] ^= 0x40;
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<ModelFormatException>(() => ModelFile.Load(path));
        Assert.Contains("'user_factors' is corrupt", e.Message);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.95)]
    [InlineData(0.0)]
    public void Truncated_file_is_refused(double keep)
    {
        string path = _dir.File("m.npz");
        ModelFile.Save(SampleModel(), path);
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(int)(bytes.Length * keep)]);
        var e = Assert.Throws<ModelFormatException>(() => ModelFile.Load(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Wrong_dtype_and_newer_format_are_refused()
    {
        string path = _dir.File("bad.npz");
        WriteNpz(path, z =>
        {
            z.Add<long>("user_factors", [1, 2], 1, 2);
            z.Add<float>("item_factors", [1, 2], 1, 2);
            z.Add<long>("user_ids", [1], 1);
            z.Add<long>("track_ids", [1], 1);
        });
        Assert.Contains("entry 'user_factors': dtype <i8 where float32 was expected", Assert.Throws<ModelFormatException>(() => ModelFile.Load(path)).Message);

        WriteNpz(path, z =>
        {
            z.Add<float>("user_factors", [1, 2], 1, 2);
            z.Add<float>("item_factors", [1, 2], 1, 2);
            z.Add<long>("user_ids", [1], 1);
            z.Add<long>("track_ids", [1], 1);
            z.Add<long>("format_version", [99]);
        });
        Assert.Contains("format version 99 is not supported", Assert.Throws<ModelFormatException>(() => ModelFile.Load(path)).Message);
    }

    [Fact]
    public void Bad_heard_matrix_is_refused()
    {
        string path = _dir.File("bad.npz");
        WriteNpz(path, z =>
        {
            z.Add<float>("user_factors", [1, 2], 1, 2);
            z.Add<float>("item_factors", [1, 2], 1, 2);
            z.Add<long>("user_ids", [1], 1);
            z.Add<long>("track_ids", [1], 1);
            z.Add<long>("user_items_indptr", [0, 1], 2);
            z.Add<int>("user_items_indices", [3], 1);
        });
        Assert.Contains("item index 3 at position 0 is outside 0..0", Assert.Throws<ModelFormatException>(() => ModelFile.Load(path)).Message);
    }

    [Fact]
    public void A_heard_matrix_row_pointing_past_the_indices_is_refused()
    {
        // Valid CRCs, first and last pointers right: only a middle row points past the indices.
        string path = _dir.File("past.npz");
        WriteNpz(path, z =>
        {
            z.Add<float>("user_factors", [1, 2, 3, 4], 2, 2);
            z.Add<float>("item_factors", [1, 2], 1, 2);
            z.Add<long>("user_ids", [1, 2], 2);
            z.Add<long>("track_ids", [1], 1);
            z.Add<long>("user_items_indptr", [0, 100, 1], 3);
            z.Add<int>("user_items_indices", [0], 1);
        });
        Assert.Contains("points past the 1 indices at row 0", Assert.Throws<ModelFormatException>(() => ModelFile.Load(path)).Message);
    }

    [Fact]
    public void Not_a_zip_and_missing_file_are_refused()
    {
        string path = _dir.Write("text.npz", "hello, not a zip");
        Assert.Contains("corrupt or truncated zip", Assert.Throws<ModelFormatException>(() => ModelFile.Load(path)).Message);
        Assert.Contains("file not found", Assert.Throws<ModelFormatException>(() => ModelFile.Load(_dir.File("none.npz"))).Message);
    }

    [Fact]
    public void Failed_save_leaves_the_old_target_and_no_temp_file()
    {
        string path = _dir.File("model.npz");
        Directory.CreateDirectory(path); // a directory where the file should go makes the final rename fail
        Assert.ThrowsAny<IOException>(() => ModelFile.Save(SampleModel(), path));
        Assert.True(Directory.Exists(path));
        Assert.Single(Directory.GetFileSystemEntries(_dir.Path));
    }

    [Fact]
    public void Writes_byte_identical_files_for_the_same_model()
    {
        ModelFile.Save(SampleModel(), _dir.File("a.npz"));
        ModelFile.Save(SampleModel(), _dir.File("b.npz"));
        Assert.Equal(File.ReadAllBytes(_dir.File("a.npz")), File.ReadAllBytes(_dir.File("b.npz")));
    }

    [Fact]
    public void Numpy_reads_what_we_write()
    {
        string path = _dir.File("model.npz");
        ModelFile.Save(SampleModel(), path);
        const string script = """
            import sys, json, numpy as np
            f = np.load(sys.argv[1])
            out = {k: [str(f[k].dtype), list(f[k].shape), float(np.asarray(f[k], dtype=np.float64).sum())] for k in sorted(f.files)}
            print(json.dumps(out))
            """;
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add(path);
        using var p = Process.Start(psi)!;
        string stdout = p.StandardOutput.ReadToEnd();
        string stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"numpy failed (install python3-numpy; ./test.sh does): {stderr}");
        using var doc = System.Text.Json.JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        var model = SampleModel();
        void Check(string key, string dtype, long[] shape, double sum)
        {
            var e = root.GetProperty(key);
            Assert.Equal(dtype, e[0].GetString());
            Assert.Equal(shape, e[1].EnumerateArray().Select(x => x.GetInt64()).ToArray());
            Assert.Equal(sum, e[2].GetDouble(), 4);
        }
        Check("user_factors", "float32", [3, 2], model.UserFactors.Sum());
        Check("item_factors", "float32", [4, 2], model.ItemFactors.Sum());
        Check("user_ids", "int64", [3], model.UserIds.Sum());
        Check("track_ids", "int64", [4], model.TrackIds.Sum());
        Check("format_version", "int64", [], 1);
        Check("user_items_indptr", "int64", [4], model.UserItems!.RowPtr.Sum());
        Check("user_items_indices", "int32", [3], model.UserItems.ColIndices.Sum());
        Check("item_popularity", "float32", [4], 14);
        Assert.Equal(model.ParametersJson!.Length, root.GetProperty("params_json")[1][0].GetInt64());
    }

    private static void WriteNpz(string path, Action<Npz.Writer> add)
    {
        using var file = File.Create(path);
        using var z = new Npz.Writer(file);
        add(z);
    }

    private static int IndexOf(byte[] haystack, byte[] needle, int from)
    {
        for (int i = from; i <= haystack.Length - needle.Length; i++)
        {
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle)) return i;
        }
        return -1;
    }

    [Fact]
    public void Entries_are_stored_like_np_savez()
    {
        string path = _dir.File("m.npz");
        ModelFile.Save(SampleModel(), path);
        using var zip = ZipFile.OpenRead(path);
        Assert.Contains("user_factors.npy", zip.Entries.Select(e => e.FullName));
        Assert.All(zip.Entries, e => Assert.Equal(e.Length, e.CompressedLength));
    }
}
