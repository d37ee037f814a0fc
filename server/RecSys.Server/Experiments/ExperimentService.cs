using Npgsql;
using RecSys.Engine.Experiments;
using RecSys.Server.Configuration;
using RecSys.Server.Hosting;

namespace RecSys.Server.Experiments;

/// <summary>
/// The experiments a server runs: read from the store at start-up and every
/// <see cref="ExperimentOptions.RefreshSeconds"/> (so replicas and <c>recsys ab</c> agree), published as
/// one immutable <see cref="ExperimentSet"/> only once every model version its arms name is loaded.
/// Answers of experiment users are recorded as exposures through <see cref="ExposureRecorder"/>. A store
/// that cannot be reached at start-up (a database that is down) leaves the server serving without
/// experiments until a refresh reaches it; one experiment that cannot be read or loaded leaves out
/// that experiment only (<see cref="Problems"/>).
/// </summary>
public sealed class ExperimentService(ExperimentStores stores, ModelHost host, ServerOptions options, TimeProvider time, ILogger<ExperimentService> log) : IHostedService, IDisposable
{
    private volatile ExperimentSet _set = ExperimentSet.Empty;
    private volatile IReadOnlyDictionary<string, ServingModel> _challengers = new Dictionary<string, ServingModel>();
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private ExposureRecorder? _recorder;
    private bool _prepared;

    /// <summary>Experiments left out at the last refresh, and why (a definition that does not read, a model version that does not load).</summary>
    public IReadOnlyDictionary<string, string> Problems { get; private set; } = new Dictionary<string, string>();

    public ExperimentSet Set => _set;
    public ExperimentStores Stores => stores;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // A version an arm serves stays in the store while its experiment runs, whatever training promotes.
        host.Store.Pinned = () => _challengers.Keys;
        _recorder = new ExposureRecorder(stores.OpenExposures(), options.Experiments, log);
        _recorder.Start();
        try
        {
            await RefreshAsync(cancellationToken);
        }
        catch (Exception e) when (IsStoreFailure(e))
        {
            log.LogWarning("experiments unavailable, serving without them until {Store} can be read: {Message}", stores.Definitions.Description, e.Message);
        }
        if (options.Experiments.RefreshSeconds > 0) _loop = RefreshLoop();
    }

    private static bool IsStoreFailure(Exception e) => e is NpgsqlException or IOException or UnauthorizedAccessException or TimeoutException;

    private async Task RefreshLoop()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Experiments.RefreshSeconds), time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                try
                {
                    await RefreshAsync(_stop.Token);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    log.LogWarning("could not read the experiments from {Store}; the ones read before keep running: {Message}", stores.Definitions.Description, e.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        if (_loop is not null) await _loop;
        if (_recorder is not null)
        {
            await _recorder.StopAsync();
            _recorder.Dispose();
        }
    }

    /// <summary>The arm serving the user on the endpoint now; null (the default answer) for almost every request while no experiment runs.</summary>
    public ArmAssignment? Assign(string endpoint, long userId)
    {
        var set = _set;
        return set.IsEmpty ? null : set.Assign(endpoint, userId, time.GetUtcNow().UtcDateTime);
    }

    /// <summary>The model serving a <c>model:&lt;version&gt;</c> arm (the serving model itself when it is that version).</summary>
    public ServingModel? Challenger(string version)
    {
        var current = host.Current;
        if (current?.Version == version) return current;
        return _challengers.GetValueOrDefault(version);
    }

    /// <summary>
    /// Records what an experiment user was shown (queued; stored in batches off the request path). It
    /// allocates the exposure's arrays: a cost experiment users pay, not the others.
    /// </summary>
    public void Record(ArmAssignment assigned, Guid recommendationId, long userId, long[] tracks, Metadata.TrackCatalog catalog)
    {
        if (tracks.Length > Exposure.MaxTracks) tracks = tracks[..Exposure.MaxTracks];
        var durations = new int[tracks.Length];
        for (int i = 0; i < tracks.Length; i++) durations[i] = catalog.Find(tracks[i])?.DurationMs ?? 0;
        string arm = assigned.Definition.Name;
        ServerMetrics.ExperimentAnswers.WithLabels(assigned.Experiment.Id, arm).Inc();
        _recorder?.Record(new Exposure(recommendationId, assigned.Experiment.Id, arm, userId, time.GetUtcNow().UtcDateTime, tracks, durations));
    }

    /// <summary>Reads the store and publishes its experiments (loading model versions first, off the caller's thread).</summary>
    public async Task RefreshAsync(CancellationToken ct = default)
    {
        await _refresh.WaitAsync(ct);
        try
        {
            await Task.Run(Refresh, ct);
        }
        finally
        {
            _refresh.Release();
        }
    }

    private void Refresh()
    {
        if (!_prepared)
        {
            stores.Prepare();
            if (options.Experiments.File is { Length: > 0 } file) ImportFile(file);
            _prepared = true;
        }
        var now = time.GetUtcNow().UtcDateTime;
        var unreadable = new List<string>();
        var latest = stores.Definitions.Latest(unreadable);
        var problems = unreadable.Select(p => p.Split(": ", 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : p[0]);
        var challengers = new Dictionary<string, ServingModel>();
        var live = new List<ExperimentDefinition>();
        foreach (var definition in latest)
        {
            if (definition.StopUtc is { } stop && stop <= now) continue;
            if (LoadModels(definition, challengers) is { } failure)
            {
                problems[definition.Id] = failure;
                continue;
            }
            live.Add(definition);
        }
        _challengers = challengers;
        Problems = problems;
        foreach (var (id, problem) in problems) log.LogWarning("experiment {Id} does not run: {Problem}", id, problem);
        var previous = _set;
        _set = new ExperimentSet(live);
        if (!previous.Experiments.Select(e => (e.Id, e.Definition.Version)).SequenceEqual(live.Select(d => (d.Id, d.Version))))
        {
            log.LogInformation("experiments: {List}", live.Count == 0 ? "none" : string.Join(", ", live.Select(d => $"{d.Id} v{d.Version} ({d.Status(now)})")));
        }
    }

    /// <summary>Loads the model versions the experiment's arms name into <paramref name="challengers"/>; what went wrong, or null.</summary>
    private string? LoadModels(ExperimentDefinition definition, Dictionary<string, ServingModel> challengers)
    {
        foreach (var arm in definition.Arms)
        {
            var strategy = ArmStrategy.Parse(arm.Strategy);
            if (strategy.Kind != ArmStrategy.Kinds.Model || challengers.ContainsKey(strategy.ModelVersion!)) continue;
            string version = strategy.ModelVersion!;
            // The serving model itself when it is that version: kept here too, so the arm still has it after a promotion.
            if (host.Current is { } current && current.Version == version) challengers[version] = current;
            else if (_challengers.TryGetValue(version, out var loaded)) challengers[version] = loaded;
            else
            {
                try
                {
                    challengers[version] = host.LoadVersion(version);
                }
                catch (Exception e)
                {
                    return $"arm {arm.Name}: model version {version} does not load: {e.Message}";
                }
            }
        }
        return null;
    }

    /// <summary>Checks and stores a new version of an experiment (<see cref="ExperimentChanges.Save"/>) and publishes it.</summary>
    public async Task<ExperimentDefinition> SaveAsync(ExperimentDefinition definition, CancellationToken ct = default)
    {
        var saved = await Task.Run(() => Save(stores.Definitions, host.Store, definition, time.GetUtcNow().UtcDateTime), ct);
        await RefreshAsync(ct);
        return saved;
    }

    /// <summary><see cref="ExperimentChanges.Save"/> against a model store (shared with <c>recsys ab start</c>).</summary>
    public static ExperimentDefinition Save(IExperimentStore store, ModelStore models, ExperimentDefinition definition, DateTime nowUtc) =>
        ExperimentChanges.Save(store, definition, nowUtc, v => models.Versions().Contains(v), models.Root);

    /// <summary>Stores a version of the experiment that stops now and publishes it; null when there is no such experiment.</summary>
    public async Task<ExperimentDefinition?> StopAsync(string id, CancellationToken ct = default)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var stopped = await Task.Run(() => ExperimentChanges.StopNow(stores.Definitions, id, now), ct);
        await RefreshAsync(ct);
        return stopped;
    }

    /// <summary>
    /// Stores the file's definitions as new versions where they differ from the store's newest. A stop
    /// made later (API, <c>recsys ab stop</c>) sticks: a file without a stop does not restart it.
    /// </summary>
    private void ImportFile(string file)
    {
        System.Text.Json.Nodes.JsonArray root;
        try
        {
            root = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(file), documentOptions: new System.Text.Json.JsonDocumentOptions { AllowDuplicateProperties = false })
                as System.Text.Json.Nodes.JsonArray ?? throw new InvalidOperationException($"RecSys:Experiments:File {file} must hold a JSON array of experiments");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new InvalidOperationException($"RecSys:Experiments:File {file} is not JSON: {e.Message}");
        }
        var now = time.GetUtcNow().UtcDateTime;
        for (int i = 0; i < root.Count; i++)
        {
            ExperimentDefinition definition;
            try
            {
                definition = ExperimentJson.Parse(root[i]?.ToJsonString() ?? "null");
            }
            catch (FormatException e)
            {
                throw new InvalidOperationException($"RecSys:Experiments:File {file}, experiment [{i}]: {e.Message}");
            }
            var latest = stores.Definitions.History(definition.Id) is { Count: > 0 } h ? h[^1] : null;
            if (latest is not null && Same(latest, definition)) continue;
            try
            {
                Save(stores.Definitions, host.Store, definition, now);
            }
            catch (ArgumentException e)
            {
                throw new InvalidOperationException($"RecSys:Experiments:File {file}, experiment {definition.Id}: {e.Message}");
            }
        }
    }

    private static bool Same(ExperimentDefinition stored, ExperimentDefinition given)
    {
        var normalised = given with { Version = 0, CreatedUtc = default, StartUtc = given.StartUtc ?? stored.StartUtc, StopUtc = given.StopUtc ?? stored.StopUtc };
        return ExperimentJson.ToJson(stored with { Version = 0, CreatedUtc = default }).ToJsonString() == ExperimentJson.ToJson(normalised).ToJsonString();
    }

    public void Dispose()
    {
        _stop.Dispose();
        _refresh.Dispose();
    }
}
