using Prometheus;

namespace RecSys.Server.Hosting;

/// <summary>The Prometheus metrics the server exports at /metrics.</summary>
public static class ServerMetrics
{
    public static readonly Histogram RequestDuration = Metrics.CreateHistogram(
        "recsys_request_duration_seconds", "Request handling time by endpoint.",
        new HistogramConfiguration
        {
            LabelNames = ["endpoint"],
            Buckets = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1],
        });

    public static readonly Counter Requests = Metrics.CreateCounter(
        "recsys_requests_total", "Requests by endpoint and status code.", new CounterConfiguration { LabelNames = ["endpoint", "status"] });

    public static readonly Counter Sources = Metrics.CreateCounter(
        "recsys_recommendation_source_total", "Personal recommendations by the path that answered.", new CounterConfiguration { LabelNames = ["source"] });

    public static readonly Gauge ModelVersion = Metrics.CreateGauge(
        "recsys_model_info", "The serving model version (value 1).", new GaugeConfiguration { LabelNames = ["version"] });

    public static readonly Counter Reloads = Metrics.CreateCounter(
        "recsys_model_reloads_total", "Model loads and reloads by outcome.", new CounterConfiguration { LabelNames = ["outcome"] });

    public static readonly Counter Trainings = Metrics.CreateCounter(
        "recsys_trainings_total", "Training runs by outcome.", new CounterConfiguration { LabelNames = ["outcome"] });
}
