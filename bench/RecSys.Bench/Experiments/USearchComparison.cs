using System.Diagnostics;
using System.Text.Json.Nodes;
using Cloud.Unum.USearch;
using RecSys.Engine.Ann;
using RecSys.Engine.Recommend;

namespace RecSys.Bench.Experiments;

/// <summary>
/// USearch (Cloud.Unum.USearch) on the same vectors, parameters and queries, in the same process.
/// Its C# binding fixes the search expansion at construction, so the index is rebuilt per ef; the
/// build time reported is the first build's.
/// </summary>
internal static class USearchComparison
{
    public static JsonObject Run(AnnData data, RetrievalMetric metric, int k, int[] efs, HnswOptions options, AnnExperiment.Scorer scorer)
    {
        var kind = metric == RetrievalMetric.Cosine ? MetricKind.Cos : MetricKind.Ip;
        var report = new JsonObject();
        var rows = new float[data.ItemCount][];
        for (int i = 0; i < rows.Length; i++) rows[i] = data.Items.AsSpan(i * data.Dimensions, data.Dimensions).ToArray();
        int excluded = data.QueriesAreItems ? 1 : 0;
        var results = new JsonArray();
        foreach (int ef in efs)
        {
            var sw = Stopwatch.StartNew();
            using var index = new USearchIndex(kind, ScalarKind.Float32, (ulong)data.Dimensions, (ulong)options.M, (ulong)options.EfConstruction, (ulong)ef, false);
            for (int i = 0; i < rows.Length; i++) index.Add((ulong)i, rows[i]);
            double seconds = sw.Elapsed.TotalSeconds;
            if (!report.ContainsKey("build_seconds"))
            {
                report["build_seconds"] = Math.Round(seconds, 3);
                report["inserts_per_second"] = Math.Round(rows.Length / seconds);
                report["hardware"] = index.HardwareAcceleration();
            }
            var found = new int[data.QueryCount][];
            var times = AnnExperiment.Time(data, q =>
            {
                var query = AnnExperiment.Query(data, q).ToArray();
                index.Search(query, k + excluded, out ulong[] keys, out float[] _);
                int self = data.SelfIndex(q);
                return keys.Where(key => (int)key != self).Take(k).Select(key => new ScoredIndex((int)key, 0)).ToArray();
            }, found);
            var row = AnnExperiment.Summary(times, data.QueryCount);
            row.Insert(0, "ef", ef);
            row.Insert(1, $"recall@{k}", Math.Round(scorer.Recall(found), 4));
            results.Add(row);
        }
        report["results"] = results;
        return report;
    }
}
