using RecSys.Engine.Experiments;
using RecSys.Server.Hosting;

namespace RecSys.Server.Experiments;

/// <summary>
/// The experiments a server runs: read from the store at start-up and every
/// <see cref="ExperimentOptions.RefreshSeconds"/> (so replicas and <c>recsys ab</c> agree), published as
/// one immutable <see cref="ExperimentSet"/> only once every model version its arms name is loaded.
/// Answers of experiment users are recorded as exposures through <see cref="ExposureRecorder"/>.
/// </summary>
public sealed class ExperimentService(ExperimentStores stores, ModelHost host, ServerOptions options, TimeProvider time, ILogger<ExperimentService> log) : IHostedService, IDisposable
{
    private volatile ExperimentSet _set = ExperimentSet.Empty;
    private volatile IReadOnlyDictionary<string, ServingModel> _challengers = new Dictionary<string, ServingModel>();
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private ExposureRecorder? _recorder;

    /// <summary>Experiments that could not be published at the last refresh, and why (a model version that does not load).</summary>
    public IReadOnlyDictionary<string, string> Problems { get; private set; } = new Dictionary<string, string>();

    public ExperimentSet Set => _set;
    public ExperimentStores Stores => stores;
    public int ExposuresQueued => _recorder?.Queued ?? 0;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // A version an arm serves stays in the store while its experiment runs, whatever training promotes.
        host.Store.Pinned = () => _challengers.Keys;
        await Task.Run(() =>
        {
            stores.Prepare();
            if (options.Experiments.File is { Length: > 0 } file) ImportFile(file);
        }, cancellationToken);
        _recorder = new ExposureRecorder(stores.OpenExposures(), options.Experiments, log);
        _recorder.Start();
        await RefreshAsync(cancellationToken);
        if (options.Experiments.RefreshSeconds > 0) _loop = RefreshLoop();
    }

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
        _stop.Cancel();
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

    /// <summary>Records what an experiment user was shown (queued; stored in batches off the request path).</summary>
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
        var now = time.GetUtcNow().UtcDateTime;
        var latest = stores.Definitions.Latest();
        var problems = new Dictionary<string, string>();
        var challengers = new Dictionary<string, ServingModel>();
        var live = new List<ExperimentDefinition>();
        foreach (var definition in latest)
        {
            if (definition.StopUtc is { } stop && stop <= now) continue;
            string? failure = null;
            foreach (var arm in definition.Arms)
            {
                var strategy = ArmStrategy.Parse(arm.Strategy);
                if (strategy.Kind != ArmStrategy.Kinds.Model || challengers.ContainsKey(strategy.ModelVersion!)) continue;
                // The serving model itself when it is that version: kept here too, so the arm still has it after a promotion.
                if (host.Current is { } current && current.Version == strategy.ModelVersion)
                {
                    challengers[current.Version] = current;
                    continue;
                }
                if (_challengers.TryGetValue(strategy.ModelVersion!, out var loaded))
                {
                    challengers[strategy.ModelVersion!] = loaded;
                    continue;
                }
                try
                {
                    challengers[strategy.ModelVersion!] = host.LoadVersion(strategy.ModelVersion!);
                }
                catch (Exception e) when (ModelHost.IsLoadFailure(e) || e is ArgumentException)
                {
                    failure = $"arm {arm.Name}: model version {strategy.ModelVersion} does not load: {e.Message}";
                }
            }
            if (failure is not null)
            {
                problems[definition.Id] = failure;
                log.LogWarning("experiment {Id} does not run: {Problem}", definition.Id, failure);
                continue;
            }
            live.Add(definition);
        }
        _challengers = challengers;
        Problems = problems;
        var previous = _set;
        _set = new ExperimentSet(live);
        if (!previous.Experiments.Select(e => (e.Id, e.Definition.Version)).SequenceEqual(live.Select(d => (d.Id, d.Version))))
        {
            log.LogInformation("experiments: {List}", live.Count == 0 ? "none" : string.Join(", ", live.Select(d => $"{d.Id} v{d.Version} ({d.Status(now)})")));
        }
    }

    /// <summary>
    /// Stores a new version of an experiment after checking it: valid, arms whose model versions exist,
    /// and no overlap with another experiment that has not stopped (same endpoint, layer range and time).
    /// </summary>
    public async Task<ExperimentDefinition> SaveAsync(ExperimentDefinition definition, CancellationToken ct = default)
    {
        var saved = await Task.Run(() => Save(stores.Definitions, host.Store, definition, time.GetUtcNow().UtcDateTime), ct);
        await RefreshAsync(ct);
        return saved;
    }

    /// <summary>The checks and the write behind <see cref="SaveAsync"/>, shared with <c>recsys ab</c>; throws <see cref="ArgumentException"/> naming the problem.</summary>
    public static ExperimentDefinition Save(IExperimentStore store, ModelStore models, ExperimentDefinition definition, DateTime nowUtc)
    {
        var problems = definition.Validate();
        foreach (var arm in definition.Arms)
        {
            if (ArmStrategy.TryParse(arm.Strategy, out var strategy) is null && strategy.Kind == ArmStrategy.Kinds.Model && !models.Versions().Contains(strategy.ModelVersion!))
            {
                problems.Add($"arm {arm.Name}: model version {strategy.ModelVersion} is not in the model store {models.Root} (see 'recsys model list')");
            }
        }
        var earlier = store.History(definition.Id);
        if (earlier.Count > 0 && earlier[^1] is var last && last.Salt == definition.Salt && !last.Arms.SequenceEqual(definition.Arms) && last.Status(nowUtc) == "running")
        {
            problems.Add($"experiment {definition.Id} is running: changing its arms or weights under the same salt would move users between arms mid-experiment; stop it and start a new one (or give a new salt)");
        }
        foreach (var other in store.Latest())
        {
            if (other.Id == definition.Id || other.StopUtc is { } stop && stop <= nowUtc) continue;
            if (definition.StopUtc is { } own && own <= nowUtc) continue;
            if (definition.Overlaps(other))
            {
                problems.Add($"experiment {other.Id} already covers {string.Join(", ", definition.Endpoints.Intersect(other.Endpoints))} for layer {other.LayerFrom}..{other.LayerTo} in the same time: give this one a disjoint layer range or stop {other.Id}");
            }
        }
        if (problems.Count > 0) throw new ArgumentException(string.Join("; ", problems));
        return store.Save(definition with { CreatedUtc = earlier.Count > 0 ? earlier[0].CreatedUtc : nowUtc, StartUtc = definition.StartUtc ?? (earlier.Count > 0 ? earlier[^1].StartUtc ?? earlier[0].CreatedUtc : nowUtc) });
    }

    /// <summary>Stores a version of the experiment that stops now; null when there is no such experiment.</summary>
    public async Task<ExperimentDefinition?> StopAsync(string id, CancellationToken ct = default)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var stopped = await Task.Run(() => StopNow(stores.Definitions, id, now), ct);
        await RefreshAsync(ct);
        return stopped;
    }

    public static ExperimentDefinition? StopNow(IExperimentStore store, string id, DateTime nowUtc)
    {
        var history = store.History(id);
        if (history.Count == 0) return null;
        var last = history[^1];
        if (last.StopUtc is { } stop && stop <= nowUtc) return last;
        return store.Save(last with { StopUtc = nowUtc });
    }

    /// <summary>Stores the file's definitions as new versions where they differ from the store's newest.</summary>
    private void ImportFile(string file)
    {
        var root = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(file)) as System.Text.Json.Nodes.JsonArray
            ?? throw new InvalidOperationException($"RecSys:Experiments:File {file} must hold a JSON array of experiments");
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

    private static bool Same(ExperimentDefinition stored, ExperimentDefinition given) =>
        ExperimentJson.ToJson(stored with { Version = 0, CreatedUtc = default, StartUtc = given.StartUtc ?? stored.StartUtc }).ToJsonString()
        == ExperimentJson.ToJson(given with { Version = 0, CreatedUtc = default, StartUtc = given.StartUtc ?? stored.StartUtc }).ToJsonString();

    public void Dispose()
    {
        _stop.Dispose();
        _refresh.Dispose();
    }
}
