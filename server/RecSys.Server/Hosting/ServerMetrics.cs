using Prometheus;

namespace RecSys.Server.Hosting;

/// <summary>The Prometheus metrics the server exports at /metrics.</summary>
public static class ServerMetrics
{
    // First, before any metric touches the default registry: by default prometheus-net also mirrors
    // every .NET meter (ASP.NET Core's and Kestrel's per-request instruments) and event counter.
    // Recorded on every request, that cost ten times the allocation of the request itself and a
    // gen-0 collection every 90 ms at 30k req/s (docs/benchmarks.md). The endpoint metrics below
    // cover requests; the process metrics, read on scrape, stay.
    private static readonly bool PerRequestDefaultsSuppressed = SuppressPerRequestDefaults();

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

    public static readonly Gauge TrainingLastFailed = Metrics.CreateGauge(
        "recsys_training_last_failed", "1 when the last training run failed (its error is at /model), else 0.");

    public static readonly Gauge ClusterListening = Metrics.CreateGauge(
        "recsys_cluster_listening", "1 while this replica is subscribed to the shared model registry's promotions (0 while reconnecting).");

    public static readonly Gauge ModelInSync = Metrics.CreateGauge(
        "recsys_model_in_sync", "1 when this replica serves the shared registry's current version, 0 when it does not (a load failed, or one is in progress).");

    public static readonly Gauge CatalogTracks = Metrics.CreateGauge(
        "recsys_catalog_tracks", "Track metadata rows loaded now.");

    public static readonly Counter CatalogLoads = Metrics.CreateCounter(
        "recsys_catalog_loads_total", "Track metadata loads by outcome.", new CounterConfiguration { LabelNames = ["outcome"] });

    public static readonly Gauge ModelTracksWithoutMetadata = Metrics.CreateGauge(
        "recsys_model_tracks_without_metadata", "Tracks of the serving model that the catalog has no metadata for.");

    public static readonly Counter FoldInLookupsSkipped = Metrics.CreateCounter(
        "recsys_foldin_lookups_skipped_total", "Fold-in lookups answered without the database while it was failing (popularity instead).");

    public static readonly Counter Events = Metrics.CreateCounter(
        "recsys_events_total", "Play events acknowledged: stored, or duplicate (an event id stored before).", new CounterConfiguration { LabelNames = ["result"] });

    public static readonly Counter EventBatches = Metrics.CreateCounter(
        "recsys_event_requests_total", "Event requests by outcome of their store call: stored or failed.", new CounterConfiguration { LabelNames = ["result"] });

    public static readonly Counter EventsRefused = Metrics.CreateCounter(
        "recsys_event_requests_refused_total", "Event requests answered 503 because the queue of events waiting to be stored was full.");

    public static readonly Counter ExposuresStored = Metrics.CreateCounter(
        "recsys_exposures_stored_total", "Experiment exposures (answers shown to an experiment's users) stored.");

    public static readonly Counter ExposuresDropped = Metrics.CreateCounter(
        "recsys_exposures_dropped_total", "Experiment exposures lost: the queue was full because the store fell behind (or failed at shutdown).");

    public static readonly Counter ExposureStoreFailures = Metrics.CreateCounter(
        "recsys_exposure_store_failures_total", "Failed exposure store calls (each retried).");

    public static readonly Counter ExperimentAnswers = Metrics.CreateCounter(
        "recsys_experiment_answers_total", "Answers served as an experiment's arm.", new CounterConfiguration { LabelNames = ["experiment", "arm"] });

    private static readonly Counter ServedWithoutMetadata = Metrics.CreateCounter(
        "recsys_served_tracks_without_metadata_total", "Tracks written into answers with null metadata (the catalog does not know them).");

    private static readonly string[] StatusLabels = Enumerable.Range(0, 600).Select(code => code.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    /// <summary>A status code as a label value (cached: no string per request).</summary>
    public static string StatusLabel(int status) =>
        (uint)status < (uint)StatusLabels.Length ? StatusLabels[status] : status.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Makes sure the registry's defaults are settled (a no-op after the first call).</summary>
    public static bool Initialize() => PerRequestDefaultsSuppressed;

    private static bool SuppressPerRequestDefaults()
    {
        Metrics.SuppressDefaultMetrics(new SuppressDefaultMetricOptions { SuppressMeters = true, SuppressEventCounters = true });
        // Counted by the response writer with one add per answer; read here when /metrics is scraped.
        Metrics.DefaultRegistry.AddBeforeCollectCallback(() => ServedWithoutMetadata.IncTo(Metadata.TrackFields.ServedWithoutMetadata));
        return true;
    }
}
