using System.Text.Json.Nodes;
using RecSys.Engine.Evaluation;

namespace RecSys.Server.Contracts;

/// <summary>Offline metrics as the eval and tune commands print them and manifests store them.</summary>
public static class MetricsJson
{
    public static JsonObject ToJson(RankingMetrics m)
    {
        var json = new JsonObject
        {
            [$"precision@{m.K}"] = Math.Round(m.Precision, 6),
            [$"recall@{m.K}"] = Math.Round(m.Recall, 6),
            [$"ndcg@{m.K}"] = Math.Round(m.Ndcg, 6),
            [$"map@{m.K}"] = Math.Round(m.Map, 6),
            ["auc"] = Math.Round(m.Auc, 6),
        };
        // Beyond accuracy (docs/evaluation.md): share of the catalog recommended, mean popularity
        // percentile of what is recommended, mean intra-list diversity (1 − listener cosine).
        if (m.Beyond is { } b)
        {
            json[$"coverage@{m.K}"] = Math.Round(b.Coverage, 6);
            json[$"popularity_percentile@{m.K}"] = b.PopularityPercentile is { } p ? Math.Round(p, 6) : null;
            json[$"diversity@{m.K}"] = b.Diversity is { } d ? Math.Round(d, 6) : null;
        }
        return json;
    }
}
