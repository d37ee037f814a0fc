using System.Diagnostics;
using RecSys.Engine.Ann;

namespace RecSys.Bench.Experiments;

internal static class AnnProbe
{
    public static int Run()
    {
        var data = AnnData.Synthetic(20_000, 256, 64);
        var store = new VectorStore(20_000, 64);
        data.Items.AsSpan().CopyTo(store.Data);
        var rng = new RecSys.Engine.Data.SplitMix(1);
        var nodes = Enumerable.Range(0, 1000).Select(_ => rng.NextInt(20_000)).ToArray();
        var q = store.PadQuery(data.Queries.AsSpan(0, 64));
        float sink = 0;
        for (int rep = 0; rep < 3; rep++)
        {
            var sw = Stopwatch.StartNew();
            for (int r = 0; r < 1000; r++) foreach (int n in nodes) sink += store.Distance(q, n);
            Console.WriteLine($"distance random: {sw.Elapsed.TotalMicroseconds / 1e6 * 1000:F1} ns each");
            sw.Restart();
            for (int r = 0; r < 1000; r++) for (int n = 0; n < 1000; n++) sink += store.Distance(q, n);
            Console.WriteLine($"distance sequential: {sw.Elapsed.TotalMicroseconds / 1e6 * 1000:F1} ns each");
            var heap = new DistanceQueue<ClosestFirst>();
            sw.Restart();
            for (int r = 0; r < 1000; r++) { heap.Clear(); foreach (int n in nodes) heap.Push(n * 0.37f % 1, n); while (heap.Count > 0) heap.Pop(); }
            Console.WriteLine($"heap push+pop: {sw.Elapsed.TotalMicroseconds / 1e6 * 1000:F1} ns each");
        }
        Console.WriteLine(sink);
        return 0;
    }
}
