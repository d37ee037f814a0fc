using System.Text.Json.Nodes;
using RecSys.Engine.Evaluation;

namespace RecSys.Server.Contracts;

/// <summary>Offline metrics as the eval and tune commands print them and manifests store them.</summary>
public static class MetricsJson
{
    public static JsonObject ToJson(RankingMetrics m) => new()
    {
        [$"precision@{m.K}"] = Math.Round(m.Precision, 6),
        [$"recall@{m.K}"] = Math.Round(m.Recall, 6),
        [$"ndcg@{m.K}"] = Math.Round(m.Ndcg, 6),
        [$"map@{m.K}"] = Math.Round(m.Map, 6),
        ["auc"] = Math.Round(m.Auc, 6),
    };
}
