using System.Text.Json;
using System.Text.Json.Serialization;
using RecSys.Engine.Sparse;

namespace RecSys.Engine.Als;

/// <summary>What a model was trained with and on, stored in model.npz as params_json.</summary>
public sealed record TrainingParameters
{
    [JsonPropertyName("factors")] public int Factors { get; init; }
    [JsonPropertyName("iterations")] public int Iterations { get; init; }
    [JsonPropertyName("regularization")] public float Regularization { get; init; }
    [JsonPropertyName("alpha")] public float Alpha { get; init; }
    [JsonPropertyName("scaling")] public string Scaling { get; init; } = "linear";
    [JsonPropertyName("bm25")] public bool Bm25 { get; init; }
    /// <summary>Mean raw weight per user in training: BM25's length normalisation for folded-in users.</summary>
    [JsonPropertyName("bm25_average_length")] public double Bm25AverageLength { get; init; }
    [JsonPropertyName("bm25_k1")] public float Bm25K1 { get; init; } = 100f;
    [JsonPropertyName("bm25_b")] public float Bm25B { get; init; } = 0.8f;
    [JsonPropertyName("reg_exponent")] public float RegularizationExponent { get; init; }
    [JsonPropertyName("reg_offset")] public float RegularizationOffset { get; init; } = 1f;
    [JsonPropertyName("unobserved_weight")] public float UnobservedWeight { get; init; } = 1f;
    [JsonPropertyName("cg_steps")] public int CgSteps { get; init; }
    [JsonPropertyName("solver")] public string Solver { get; init; } = "cg";
    [JsonPropertyName("seed")] public ulong Seed { get; init; }
    [JsonPropertyName("init_scale")] public float InitScale { get; init; }
    [JsonPropertyName("users")] public int Users { get; init; }
    [JsonPropertyName("items")] public int Items { get; init; }
    [JsonPropertyName("interactions")] public long Interactions { get; init; }
    [JsonPropertyName("source")] public string? Source { get; init; }
    [JsonPropertyName("trained_at")] public DateTime TrainedAtUtc { get; init; }
    [JsonPropertyName("train_seconds")] public double TrainSeconds { get; init; }
    [JsonPropertyName("seconds_per_iteration")] public double SecondsPerIteration { get; init; }

    public static TrainingParameters From(AlsOptions o, AlsFactors f, long interactions, string? source, double bm25AverageLength = 0) => new()
    {
        Bm25AverageLength = bm25AverageLength,
        Factors = o.Factors,
        Iterations = o.Iterations,
        Regularization = o.Regularization,
        Alpha = o.Alpha,
        Scaling = o.Scaling.ToString().ToLowerInvariant(),
        Bm25 = o.Bm25,
        Bm25K1 = o.Bm25K1,
        Bm25B = o.Bm25B,
        RegularizationExponent = o.RegularizationExponent,
        RegularizationOffset = o.RegularizationOffset,
        UnobservedWeight = o.UnobservedWeight,
        CgSteps = o.CgSteps,
        Solver = o.Solver == AlsSolver.Cholesky ? "cholesky" : "cg",
        Seed = o.Seed,
        InitScale = o.InitScale,
        Users = f.Users,
        Items = f.Items,
        Interactions = interactions,
        Source = source,
        TrainedAtUtc = DateTime.UtcNow,
        TrainSeconds = Math.Round(f.TrainSeconds, 4),
        SecondsPerIteration = Math.Round(f.SecondsPerIteration, 5),
    };

    [JsonIgnore] public ConfidenceScaling ConfidenceScaling => Confidence.ParseScaling(Scaling);

    public string ToJson() => JsonSerializer.Serialize(this);

    /// <summary>Parameters of a model file, or null when it has none (a model written by numpy).</summary>
    public static TrainingParameters? FromJson(string? json) =>
        json is null ? null : JsonSerializer.Deserialize<TrainingParameters>(json);
}
