using System.Buffers.Binary;
using RecSys.Engine.Als;
using RecSys.Engine.Ann;
using RecSys.Engine.Data;
using RecSys.Engine.Model;
using RecSys.Engine.Recommend;
using RecSys.Engine.Sparse;
using RecSys.Engine.Training;

namespace RecSys.Tests.Recommend;

/// <summary>Precomputed lists answer exactly what the search answers, and a saved file is trusted only when every field checks out.</summary>
public sealed class RankedListsTests : IDisposable
{
    private static readonly Lazy<RecModel> Trained = new(() =>
    {
        var data = DemoCatalog.Generate(new DemoOptions { Users = 300, Tracks = 3_000, Plays = 30_000, Seed = 9 }).ToInteractions();
        var matrix = InteractionMatrix.Build(data.Table);
        var options = new AlsOptions { Factors = 16, Iterations = 6 };
        return ModelBuilder.Build(matrix, ModelBuilder.Train(matrix.UserItems, options), options, data.Source);
    });

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>
    /// HNSW above 2,000 items, as served: the lists must be what the served search returns. One set of
    /// graphs for the model (a build on several threads may link differently each time).
    /// </summary>
    private static readonly Dictionary<RecModel, ItemRetrievers> Graphs = [];

    private static Recommender Served(RecModel m)
    {
        lock (Graphs)
        {
            if (!Graphs.TryGetValue(m, out var retrievers)) Graphs[m] = retrievers = ItemRetrievers.Create(m, new RetrievalOptions());
            return new Recommender(m, retrievers: retrievers);
        }
    }

    [Fact]
    public void Lists_answer_what_the_search_answers_for_every_limit_up_to_their_length()
    {
        var m = Trained.Value;
        var plain = Served(m);
        var listed = Served(m);
        var notes = listed.Precompute(20, _dir.Path);
        Assert.Contains(notes, n => n.Contains("computed 300 Personal lists of 20"));
        for (int u = 0; u < m.UserCount; u += 7)
        {
            foreach (int k in new[] { 0, 1, 5, 20 })
            {
                Assert.Equal(plain.RecommendUser(u, k), listed.RecommendUser(u, k));
            }
            // Past the length, or with other exclusions or heard tracks included: the search answers.
            Assert.Equal(plain.RecommendUser(u, 21), listed.RecommendUser(u, 21));
            Assert.Equal(plain.RecommendUser(u, 10, excludeHeard: false), listed.RecommendUser(u, 10, excludeHeard: false));
            Assert.Equal(plain.RecommendUser(u, 10, excludeItems: [1, 2]), listed.RecommendUser(u, 10, excludeItems: [1, 2]));
        }
        for (int item = 0; item < m.ItemCount; item += 97)
        {
            Assert.Equal(plain.SimilarItems(item, 20), listed.SimilarItems(item, 20));
            // A shorter limit gets the prefix of the list's search, which is at least as good as a graph
            // search for fewer: rank by rank, no lower score.
            var prefix = listed.SimilarItems(item, 10);
            Assert.Equal(plain.SimilarItems(item, 20)[..10], prefix);
            var searched = plain.SimilarItems(item, 10);
            for (int r = 0; r < 10; r++) Assert.True(prefix[r].Score >= searched[r].Score, $"item {item} rank {r}: {prefix[r].Score} < {searched[r].Score}");
            Assert.DoesNotContain(listed.SimilarItems(item, 10), r => r.Index == item);
        }
    }

    [Fact]
    public void Saved_lists_are_loaded_for_the_same_model_and_recomputed_for_another()
    {
        var m = Trained.Value;
        Served(m).Precompute(20, _dir.Path);
        var again = Served(m);
        var notes = again.Precompute(20, _dir.Path);
        Assert.Contains(notes, n => n.StartsWith("loaded") && n.EndsWith(Precomputation.PersonalFile));
        Assert.Contains(notes, n => n.StartsWith("loaded") && n.EndsWith(Precomputation.SimilarFile));
        Assert.Equal(Served(m).RecommendUser(3, 20), again.RecommendUser(3, 20));

        // Another length, or another model's factors: recomputed, never served stale.
        Assert.Contains(Served(m).Precompute(10, _dir.Path), n => n.Contains("recomputing Personal lists") && n.Contains("stale"));
        var other = new RecModel(m.Factors, m.UserFactors.Select(x => -x).ToArray(), m.ItemFactors, m.UserIds, m.TrackIds, m.ParametersJson, m.ItemPopularity, m.UserItems);
        Assert.Contains(Served(other).Precompute(10, _dir.Path), n => n.Contains("recomputing Personal lists") && n.Contains("another model"));
        // The same model ranked with other retrieval settings (a larger candidate list for similar tracks): recomputed too.
        var wider = new Recommender(m, retrievers: ItemRetrievers.Create(m, new RetrievalOptions { EfSearchCosine = 64 }));
        var widerNotes = wider.Precompute(10, _dir.Path);
        Assert.True(widerNotes.Any(n => n.Contains("recomputing Similar lists") && n.Contains("other retrieval settings")), string.Join(Environment.NewLine, widerNotes));
        // A list file that cannot be written (a folder in its place) costs the saving, not the lists.
        string similar = Path.Combine(_dir.Path, Precomputation.SimilarFile);
        File.Delete(similar);
        Directory.CreateDirectory(similar);
        var blocked = Served(m);
        Assert.Contains(blocked.Precompute(10, _dir.Path), n => n.StartsWith($"could not save {similar}"));
        Assert.NotNull(blocked.SimilarLists);
    }

    [Fact]
    public void The_file_layout_is_pinned()
    {
        // One list of two: magic, version 1, kind 2 (similar), rows 1, length 2, fingerprint 7, count 2,
        // indices 3 and 5, scores 1.0 and 0.5, checksum. A change of layout must change this test.
        var lists = RankedLists.Build(1, 2, (_, _) => [new(3, 1f), new(5, 0.5f)], 1);
        string path = Path.Combine(_dir.Path, "pinned.bin");
        RankedListsFile.Save(path, lists, RankedListKind.Similar, 7);
        var bytes = File.ReadAllBytes(path);
        Assert.Equal("52534C4953540D0A" + "01000000" + "02000000" + "01000000" + "02000000" + "0700000000000000" + "02000000" + "03000000" + "05000000" + "0000803F" + "0000003F",
            Convert.ToHexString(bytes[..^8]));
        Assert.Equal(System.IO.Hashing.XxHash3.HashToUInt64(bytes.AsSpan(0, bytes.Length - 8)), BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(bytes.Length - 8)));
    }

    [Fact]
    public void Every_corruption_of_a_saved_file_is_refused_with_its_reason()
    {
        var m = Trained.Value;
        int items = m.ItemCount;
        var lists = RankedLists.Build(5, 4, (row, k) => [.. Enumerable.Range(0, k).Select(i => new ScoredIndex(row + 1 + i, 10 - i))], 1);
        string path = Path.Combine(_dir.Path, "lists.bin");
        RankedListsFile.Save(path, lists, RankedListKind.Similar, 42);
        var good = RankedListsFile.Load(path, RankedListKind.Similar, 5, 4, items, 42);
        Assert.True(good.TryGet(2, 4, out var row2));
        Assert.Equal([new(3, 10), new(4, 9), new(5, 8), new(6, 7)], row2);
        Assert.False(good.TryGet(2, 5, out _));

        byte[] bytes = File.ReadAllBytes(path);
        Refused(bytes[..20], "20 bytes");
        var badMagic = (byte[])bytes.Clone();
        badMagic[0] = (byte)'X';
        Refused(badMagic, "bad magic");
        Refused(Flip(bytes, 40), "checksum mismatch");
        Refused(bytes, "holds Similar lists", kind: RankedListKind.Personal);
        Refused(bytes, "stale", rows: 6);
        Refused(bytes, "another model", fingerprint: 43);
        // Valid checksums around invalid contents: an item past the catalog, a count past the length, scores out of order or not finite.
        Refused(Rewritten(bytes, indices: (i, v) => i == 3 ? items : v), $"names item {items}");
        Refused(Rewritten(bytes, counts: (i, v) => i == 1 ? 5 : v), "has 5 entries");
        Refused(Rewritten(bytes, scores: (i, v) => i == 2 ? 100 : v), "not ranked best first");
        Refused(Rewritten(bytes, scores: (i, v) => i == 0 ? float.NaN : v), "has score NaN");
        Refused(Rewritten(bytes, indices: (i, v) => i == 1 ? 1 : v), "names item 1 twice");
        Refused(Rewritten(bytes, indices: (i, v) => i == 4 ? 1 : v), "list 1 names its own track");

        void Refused(byte[] content, string reason, RankedListKind kind = RankedListKind.Similar, int rows = 5, ulong fingerprint = 42)
        {
            File.WriteAllBytes(path, content);
            var e = Assert.Throws<IndexFormatException>(() => RankedListsFile.Load(path, kind, rows, 4, items, fingerprint));
            Assert.Contains(reason, e.Message);
            Assert.Contains(path, e.Message);
        }
    }

    private static byte[] Flip(byte[] bytes, int at)
    {
        var copy = (byte[])bytes.Clone();
        copy[at] ^= 0x10;
        return copy;
    }

    /// <summary>The file with some fields changed and its checksum recomputed.</summary>
    private static byte[] Rewritten(byte[] bytes, Func<int, int, int>? counts = null, Func<int, int, int>? indices = null, Func<int, float, float>? scores = null)
    {
        var copy = (byte[])bytes.Clone();
        const int header = 32, rows = 5, length = 4;
        for (int i = 0; i < rows; i++) Edit(copy, header + 4 * i, counts, i);
        for (int i = 0; i < rows * length; i++) Edit(copy, header + 4 * rows + 4 * i, indices, i);
        var span = copy.AsSpan();
        for (int i = 0; i < rows * length; i++)
        {
            int at = header + 4 * rows + 4 * rows * length + 4 * i;
            if (scores is not null) BinaryPrimitives.WriteSingleLittleEndian(span[at..], scores(i, BinaryPrimitives.ReadSingleLittleEndian(span[at..])));
        }
        BinaryPrimitives.WriteUInt64LittleEndian(span[^8..], System.IO.Hashing.XxHash3.HashToUInt64(span[..^8]));
        return copy;
    }

    private static void Edit(byte[] bytes, int at, Func<int, int, int>? change, int i)
    {
        if (change is not null) BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(at), change(i, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(at))));
    }
}
