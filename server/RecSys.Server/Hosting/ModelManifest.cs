using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace RecSys.Server.Hosting;

/// <summary>What a stored model version is: written as manifest.json beside model.npz.</summary>
public sealed record ModelManifest
{
    [JsonPropertyName("version")] public required string Version { get; init; }
    [JsonPropertyName("trained_at")] public DateTime TrainedAtUtc { get; init; }
    [JsonPropertyName("source")] public string? Source { get; init; }
    [JsonPropertyName("users")] public int Users { get; init; }
    [JsonPropertyName("items")] public int Items { get; init; }
    [JsonPropertyName("interactions")] public long Interactions { get; init; }
    [JsonPropertyName("parameters")] public JsonNode? Parameters { get; init; }

    /// <summary>SHA-256 of the file an imported version came from (so the same file is not imported twice).</summary>
    [JsonPropertyName("imported_sha256")] public string? ImportedSha256 { get; init; }

    /// <summary>
    /// Holdout metrics: precision@10, recall@10, ndcg@10, map@10, auc, coverage@10, popularity_percentile@10,
    /// diversity@10, and the popularity baseline's (docs/evaluation.md).
    /// </summary>
    [JsonPropertyName("metrics")] public JsonObject? Metrics { get; init; }

    /// <summary>The play-event store whose events the training read (the embedded log's id, or one server run's for a database).</summary>
    [JsonPropertyName("events_epoch")] public string? EventsEpoch { get; init; }

    /// <summary>The sequence number of the newest event the training read: later ones are applied live on top of the model.</summary>
    [JsonPropertyName("events_through")] public long EventsThrough { get; init; }

    /// <summary>
    /// The settings self-tuning chose for this version (or reused from the one before), with its
    /// validation NDCG@10, when and on how many interactions it searched; null when tuning was off.
    /// </summary>
    [JsonPropertyName("tuned")] public JsonObject? Tuned { get; init; }

    [JsonIgnore] public double? Ndcg => Metrics?["ndcg@10"]?.GetValue<double>();
}
