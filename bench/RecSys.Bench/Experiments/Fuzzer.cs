using System.Buffers;
using System.IO.Compression;
using System.Text;
using RecSys.Engine.Als;
using RecSys.Engine.Ann;
using RecSys.Engine.Data;
using RecSys.Engine.Events;
using RecSys.Engine.Model;
using RecSys.Engine.Recommend;
using RecSys.Engine.Sparse;
using RecSys.Engine.Training;

namespace RecSys.Bench.Experiments;

/// <summary>
/// Seeded fuzzing of everything RecSys reads from outside: delimited interaction files, model.npz (at
/// zip level, and per entry with valid CRCs), HNSW index and precomputed list files (half of them
/// resealed with a valid checksum, so the field checks behind it are reached), experiment definitions
/// and play-event bodies. Each input must be accepted or refused with the reader's own error (the one the CLI and
/// server turn into a message naming the problem); any other exception is a crash, an input that takes
/// longer than <see cref="CaseTimeout"/> a hang. The same mutations for the same seed (the model seeds
/// carry the time they were written in their zip entries, so npz bytes differ between runs).
/// </summary>
public static class Fuzzer
{
    public static readonly string[] Targets = ["delimited", "npz-zip", "npz-entry", "hnsw", "lists", "experiment", "events"];

    public static readonly TimeSpan CaseTimeout = TimeSpan.FromSeconds(10);

    /// <summary>What one target's inputs did; <see cref="Failures"/> names each crash or hang with the input's case number.</summary>
    public sealed record Report(string Target, int Inputs, int Accepted, int Refused, List<string> Failures);

    public static Report Run(string target, int cases, ulong seed)
    {
        using var dir = new Scratch();
        var seeds = Seeds(target, dir.Path);
        int accepted = 0, refused = 0;
        var failures = new List<string>();
        for (int n = 0; n < cases; n++)
        {
            var rng = new SplitMix(seed, (ulong)n);
            var original = seeds[rng.NextInt(seeds.Count)];
            byte[] input = target switch
            {
                "npz-entry" => MutateEntry(original, ref rng),
                "hnsw" or "lists" when rng.NextInt(2) == 0 => Reseal(Mutate(original, ref rng)),
                _ => Mutate(original, ref rng),
            };
            var outcome = Task.Run(() => Try(target, input, dir.Path, n));
            if (!outcome.Wait(CaseTimeout))
            {
                failures.Add($"case {n}: no answer within {CaseTimeout.TotalSeconds} s (a hang)");
                continue;
            }
            switch (outcome.Result)
            {
                case (true, null): accepted++; break;
                case (false, null): refused++; break;
                case (_, { } e) when Expected(target, e): refused++; break;
                case (_, var e): failures.Add($"case {n}: {e!.GetType().Name}: {e.Message}"); break;
            }
        }
        return new Report(target, cases, accepted, refused, failures);
    }

    /// <summary>The reader's own error for the target (what the CLI and server report as a bad input).</summary>
    private static bool Expected(string target, Exception e) => target switch
    {
        "delimited" => e is DataFormatException,
        "npz-zip" or "npz-entry" => e is ModelFormatException,
        "hnsw" or "lists" => e is IndexFormatException,
        "experiment" => e is FormatException,
        _ => false,
    };

    /// <summary>Whether the input was accepted (a reader that reports problems without throwing may refuse it), or what it threw.</summary>
    private static (bool Accepted, Exception? Error) Try(string target, byte[] input, string dir, int n)
    {
        string path = Path.Combine(dir, $"case-{n}");
        try
        {
            switch (target)
            {
                case "delimited":
                    File.WriteAllBytes(path + ".csv", input);
                    new DelimitedFileReader(path + ".csv").Read();
                    break;
                case "npz-zip" or "npz-entry":
                    File.WriteAllBytes(path + ".npz", input);
                    ModelFile.Load(path + ".npz");
                    break;
                case "hnsw":
                    File.WriteAllBytes(path + ".hnsw", input);
                    var (vectors, dimensions) = HnswVectors();
                    HnswRetriever.Load(path + ".hnsw", vectors, dimensions, RetrievalMetric.InnerProduct);
                    break;
                case "lists":
                    File.WriteAllBytes(path + ".bin", input);
                    RankedListsFile.Load(path + ".bin", RankedListKind.Similar, ListRows, ListLength, ListItems, ListFingerprint);
                    break;
                case "experiment":
                    Engine.Experiments.ExperimentJson.Parse(Encoding.UTF8.GetString(input));
                    break;
                case "events":
                    var body = new ReadOnlySequence<byte>(input);
                    bool array = PlayEventParser.ParseArray(body, DateTime.UtcNow, 10_000).IsValid;
                    bool lines = PlayEventParser.ParseNdjson(body, DateTime.UtcNow, 10_000).IsValid;
                    return (array || lines, null);
                default:
                    throw new ArgumentException($"unknown fuzz target '{target}' ({string.Join(", ", Targets)})");
            }
            return (true, null);
        }
        catch (Exception e)
        {
            return (false, e);
        }
        finally
        {
            foreach (string file in Directory.GetFiles(dir, $"case-{n}*")) File.Delete(file);
        }
    }

    /// <summary>Valid inputs the mutations start from.</summary>
    private static List<byte[]> Seeds(string target, string dir)
    {
        switch (target)
        {
            case "delimited":
                return
                [
                    Encoding.UTF8.GetBytes("user_id,track_id,weight\n1,10,3\n2,11,1\n3,10,2\n"),
                    Encoding.UTF8.GetBytes("userID\tartistID\tweight\n2\t51\t13883\n2\t52\t11690\n3\t51\t228\n"),
                    Encoding.UTF8.GetBytes("1\t242\t3\t881250949\n186\t302\t3\t891717742\n"),
                    Encoding.UTF8.GetBytes("userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,4.0,964981247\n"),
                ];
            case "npz-zip" or "npz-entry":
            {
                string path = Path.Combine(dir, "seed.npz");
                ModelFile.Save(SmallModel(), path);
                string compressed = Path.Combine(dir, "seed-compressed.npz");
                ModelFile.Save(SmallModel(), compressed, compress: true);
                return [File.ReadAllBytes(path), File.ReadAllBytes(compressed)];
            }
            case "hnsw":
            {
                var (vectors, dimensions) = HnswVectors();
                string path = Path.Combine(dir, "seed.hnsw");
                HnswRetriever.Build(vectors, dimensions, RetrievalMetric.InnerProduct).Save(path);
                return [File.ReadAllBytes(path)];
            }
            case "lists":
            {
                string path = Path.Combine(dir, "seed.bin");
                var lists = RankedLists.Build(ListRows, ListLength, (row, k) => [.. Enumerable.Range(0, k - row % 3).Select(i => new ScoredIndex((row + 1 + i) % ListItems, 5f - i))], 1);
                RankedListsFile.Save(path, lists, RankedListKind.Similar, ListFingerprint);
                return [File.ReadAllBytes(path)];
            }
            case "experiment":
                return
                [
                    Encoding.UTF8.GetBytes("""{"id":"ml-vs-pop","salt":"s1","arms":[{"name":"control","weight":50,"strategy":"ml"},{"name":"pop","weight":50,"strategy":"popularity"}]}"""),
                    Encoding.UTF8.GetBytes("""{"id":"a","arms":[{"name":"x","strategy":"model:20261201T000000000Z","exclude_heard":false},{"name":"y","strategy":"legacy"}],"layer":{"from":10,"to":20},"start":"2026-12-01T00:00:00Z","overrides":{"5":"y"}}"""),
                ];
            case "events":
                return
                [
                    Encoding.UTF8.GetBytes("""[{"event_id":"e-1","user_id":1,"track_id":2,"milestone":100,"is_completed":true,"played_at":"2026-12-01T10:00:00Z"},{"event_id":"e-2","user_id":3,"track_id":4,"milestone":10,"is_completed":false}]"""),
                    Encoding.UTF8.GetBytes("{\"event_id\":\"e-1\",\"user_id\":1,\"track_id\":2,\"milestone\":100,\"is_completed\":true}\n{\"event_id\":\"é\",\"user_id\":3,\"track_id\":4,\"milestone\":0,\"is_completed\":false,\"played_at\":null}\n"),
                ];
            default:
                throw new ArgumentException($"unknown fuzz target '{target}' ({string.Join(", ", Targets)})");
        }
    }

    private static RecModel SmallModel()
    {
        var demo = DemoCatalog.Generate(new DemoOptions { Users = 40, Tracks = 60, Plays = 600, Seed = 1 });
        var matrix = InteractionMatrix.Build(demo.ToInteractions().Table);
        var options = new AlsOptions { Factors = 4, Iterations = 1 };
        return ModelBuilder.Build(matrix, ModelBuilder.Train(matrix.UserItems, options), options, "fuzz");
    }

    private const int ListRows = 30, ListLength = 6, ListItems = 50;
    private const ulong ListFingerprint = 0x5eed;

    /// <summary>The input with its trailing XxHash3 checksum recomputed (the index and list files' seal).</summary>
    private static byte[] Reseal(byte[] input)
    {
        if (input.Length < 8) return input;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(input.AsSpan(input.Length - 8), System.IO.Hashing.XxHash3.HashToUInt64(input.AsSpan(0, input.Length - 8)));
        return input;
    }

    private static (float[] Vectors, int Dimensions) HnswVectors()
    {
        var rng = new SplitMix(7);
        var vectors = new float[120 * 8];
        for (int i = 0; i < vectors.Length; i++) vectors[i] = rng.NextFloat() - 0.5f;
        return (vectors, 8);
    }

    /// <summary>One to four byte-level edits: flip a bit, set a byte, delete, insert or duplicate a run, truncate.</summary>
    public static byte[] Mutate(byte[] input, ref SplitMix rng)
    {
        var bytes = new List<byte>(input);
        int edits = 1 + rng.NextInt(4);
        for (int e = 0; e < edits && bytes.Count > 0; e++)
        {
            int at = rng.NextInt(bytes.Count);
            int length = 1 + rng.NextInt(Math.Min(16, bytes.Count - at));
            switch (rng.NextInt(6))
            {
                case 0: bytes[at] ^= (byte)(1 << rng.NextInt(8)); break;
                case 1: bytes[at] = Interesting(ref rng); break;
                case 2: bytes.RemoveRange(at, length); break;
                case 3:
                    var inserted = new byte[length];
                    for (int i = 0; i < length; i++) inserted[i] = Interesting(ref rng);
                    bytes.InsertRange(at, inserted);
                    break;
                case 4: bytes.InsertRange(at, bytes.GetRange(at, length)); break;
                default: bytes.RemoveRange(at, bytes.Count - at); break;
            }
        }
        return [.. bytes];
    }

    /// <summary>Bytes that tend to matter: boundaries of integers, delimiters, quotes, NUL, high bits.</summary>
    private static byte Interesting(ref SplitMix rng)
    {
        ReadOnlySpan<byte> special = [0, 0xFF, 0x7F, 0x80, (byte)',', (byte)'\t', (byte)'\n', (byte)'"', (byte)'-', (byte)'9', (byte)'{', (byte)'}', (byte)'[', (byte)':'];
        return rng.NextInt(2) == 0 ? special[rng.NextInt(special.Length)] : (byte)rng.NextInt(256);
    }

    /// <summary>The zip rewritten with one entry's bytes mutated (so its CRC is valid and the entry's own content is tested).</summary>
    private static byte[] MutateEntry(byte[] zip, ref SplitMix rng)
    {
        var entries = new List<(string Name, byte[] Data)>();
        using (var archive = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read))
        {
            foreach (var entry in archive.Entries)
            {
                using var stream = entry.Open();
                var data = new MemoryStream();
                stream.CopyTo(data);
                entries.Add((entry.FullName, data.ToArray()));
            }
        }
        int victim = rng.NextInt(entries.Count);
        entries[victim] = (entries[victim].Name, Mutate(entries[victim].Data, ref rng));
        var output = new MemoryStream();
        using (var archive = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, data) in entries)
            {
                using var stream = archive.CreateEntry(name, CompressionLevel.NoCompression).Open();
                stream.Write(data);
            }
        }
        return output.ToArray();
    }

    private sealed class Scratch : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("recsys-fuzz-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
