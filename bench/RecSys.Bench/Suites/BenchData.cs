using RecSys.Engine.Data;

namespace RecSys.Bench.Suites;

/// <summary>Seeded synthetic inputs shared by the suites.</summary>
public static class BenchData
{
    /// <summary>Power-law interactions: user and item ids drawn with heavy heads, weights 1..20.</summary>
    public static InteractionTable PowerLaw(int rows, int users, int items, ulong seed = 1)
    {
        var t = new InteractionTable(rows);
        var rng = new SplitMix(seed);
        for (int i = 0; i < rows; i++)
        {
            long u = (long)Math.Pow(users + 1, rng.NextDouble());
            long it = (long)Math.Pow(items + 1, rng.NextDouble());
            t.Add(u, it, 1 + rng.NextInt(20));
        }
        return t;
    }

    /// <summary>Writes a Last.fm-style TSV of <paramref name="rows"/> rows; returns its path.</summary>
    public static string WriteTsv(int rows, ulong seed = 1)
    {
        string path = Path.Combine(Path.GetTempPath(), $"recsys-bench-{rows}-{seed}.tsv");
        if (File.Exists(path)) return path;
        var table = PowerLaw(rows, 50_000, 20_000, seed);
        string temp = path + ".tmp";
        using (var w = new StreamWriter(temp, false, new System.Text.UTF8Encoding(false), 1 << 20))
        {
            w.Write("userID\tartistID\tweight\n");
            for (int i = 0; i < table.Count; i++)
            {
                w.Write(table.Users[i]);
                w.Write('\t');
                w.Write(table.Items[i]);
                w.Write('\t');
                w.Write((int)table.Weights[i]);
                w.Write('\n');
            }
        }
        File.Move(temp, path, true);
        return path;
    }
}
