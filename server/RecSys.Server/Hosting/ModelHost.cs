using RecSys.Engine.Model;
using RecSys.Engine.Recommend;
using RecSys.Server.Configuration;
using RecSys.Server.Metadata;

namespace RecSys.Server.Hosting;

/// <summary>The outcome of a load, reload or promotion, shown at /model.</summary>
public sealed record LoadOutcome(DateTime AtUtc, bool Ok, string? Version, string Message)
{
    /// <summary>The version's files are malformed (rather than unreadable right now).</summary>
    public bool Malformed { get; init; }
}

/// <summary>
/// Holds the serving model and the track catalog, and swaps them atomically. A candidate that fails to
/// load or validate, or whose holdout NDCG@10 falls too far below the current model's, is refused and
/// the current model keeps serving.
/// </summary>
public sealed class ModelHost(ModelStore store, ServerOptions options, TimeProvider time, ILogger<ModelHost> log)
{
    private readonly object _swap = new();

    /// <summary>
    /// Serialises what reads or moves the store's current pointer and then swaps (reload, a training's
    /// promotion, an operator's promote or rollback): interleaved, a slow load could swap in a version
    /// after a newer one was promoted, leaving the store pointing at one version and the server serving another.
    /// </summary>
    private readonly object _changes = new();
    private volatile ServingModel? _current;
    private volatile TrackCatalog _catalog = TrackCatalog.Empty;

    public ServingModel? Current => _current;
    public TrackCatalog Catalog => _catalog;
    public ModelStore Store => store;
    public LoadOutcome? LastReload { get; private set; }

    /// <summary>Raised after every swap, with the model now serving (under the swap lock: handlers must not block).</summary>
    public event Action<ServingModel>? Swapped;

    public void SetCatalog(TrackCatalog catalog)
    {
        lock (_swap)
        {
            var serving = _current;
            if (serving is not null) ServerMetrics.ModelTracksWithoutMetadata.Set(serving.Fields(catalog).WithoutMetadata);
            PrepareLegacyPool(catalog, serving);
            _catalog = catalog;
        }
    }

    /// <summary>
    /// Builds the legacy service's track pool before requests can ask for it: built on first use, the
    /// sort and bind held the socket thread that asked (0.1–0.2 s on a million tracks), and with it
    /// every connection that thread serves.
    /// </summary>
    private static void PrepareLegacyPool(TrackCatalog catalog, ServingModel? serving)
    {
        if (catalog.Count > 0) _ = catalog.SortedFields;
        else _ = serving?.SortedTracks;
    }

    /// <summary>Loads the store's current version (start-up and POST /admin/reload).</summary>
    public LoadOutcome ReloadCurrent()
    {
        lock (_changes) return ReloadCurrentLocked();
    }

    private LoadOutcome ReloadCurrentLocked()
    {
        string? version;
        try
        {
            version = store.Current;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Record(new LoadOutcome(time.GetUtcNow().UtcDateTime, false, null, $"the current version cannot be read: {e.Message}"));
        }
        if (version is null)
        {
            return Record(new LoadOutcome(time.GetUtcNow().UtcDateTime, false, null, "the model store has no current version"));
        }
        try
        {
            var loaded = Load(version);
            Swap(loaded);
            return Record(new LoadOutcome(time.GetUtcNow().UtcDateTime, true, version, $"serving {version}: {string.Join("; ", loaded.Recommender.RetrievalNotes)}"));
        }
        catch (Exception e) when (IsLoadFailure(e))
        {
            return Record(new LoadOutcome(time.GetUtcNow().UtcDateTime, false, version, $"could not load {version}: {e.Message}") { Malformed = IsMalformed(e) });
        }
    }

    /// <summary>The version a <see cref="Follow"/> could not load: not tried again until the pointer moves or is announced again.</summary>
    private string? _refusedToFollow;

    /// <summary>
    /// A replica catching up with the shared registry: when its current version is not the one serving,
    /// loads, validates and swaps it (or keeps serving and says why in <see cref="LastReload"/>). Returns
    /// null when there was nothing to do. Waits for a change in progress on this node (a training's
    /// promotion), then looks. A version found malformed is tried again only when <paramref name="announced"/>
    /// (a promotion's notification), so a bad promotion costs each replica one load, not one per check.
    /// </summary>
    public LoadOutcome? Follow(bool announced)
    {
        lock (_changes)
        {
            string? version = store.Current;
            if (version is null || version == _current?.Version) return null;
            if (version == _refusedToFollow && !announced) return null;
            var outcome = ReloadCurrentLocked();
            // Only files found malformed wait for the next announcement; one not there yet (shared storage
            // that lags) is tried again at the next check.
            _refusedToFollow = outcome.Malformed ? outcome.Version : null;
            return outcome;
        }
    }

    /// <summary>
    /// Start-up: the current version, or when it does not load the newest earlier promoted version
    /// that does — never one that was not promoted (a candidate the quality gate refused, an import
    /// without --promote). A version whose file is malformed is marked broken in the store and the
    /// current pointer moves to the one serving; a read-only store only loses those notes. Only when
    /// no promoted version loads does the server answer from the legacy paths.
    /// </summary>
    public LoadOutcome LoadAtStartup()
    {
        lock (_changes) return LoadAtStartupLocked();
    }

    private LoadOutcome LoadAtStartupLocked()
    {
        var outcome = ReloadCurrentLocked();
        string? bad = outcome.Version;
        if (outcome.Ok || bad is null) return outcome;
        var failures = new List<string> { outcome.Message };
        if (outcome.Malformed) Note(() => store.MarkBroken(bad, outcome.Message));
        var broken = store.Broken();
        foreach (string version in store.PromotionHistory().Reverse().Distinct())
        {
            if (version == bad || broken.ContainsKey(version) || !store.Versions().Contains(version)) continue;
            try
            {
                var loaded = Load(version);
                // A shared registry's pointer is every replica's: one that cannot load it serves the
                // older version alone, and does not move the others back.
                if (store.Registry.Shared) _refusedToFollow = bad;
                else Note(() => store.Promote(version, prune: false));
                Swap(loaded);
                return Record(new LoadOutcome(time.GetUtcNow().UtcDateTime, true, version,
                    $"serving {version}, the newest promoted version that loads: the current version {bad} does not ({outcome.Message})"));
            }
            catch (Exception e) when (IsLoadFailure(e))
            {
                if (IsMalformed(e)) Note(() => store.MarkBroken(version, e.Message));
                failures.Add($"{version}: {e.Message}");
            }
        }
        return Record(new LoadOutcome(time.GetUtcNow().UtcDateTime, false, bad, $"no promoted version loads; legacy answers until one does ({string.Join("; ", failures)})"));
    }

    /// <summary>Writes a note into the store; a store that cannot be written (read-only, full) costs the note, not the start-up.</summary>
    private void Note(Action write)
    {
        try
        {
            write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.LogWarning("could not update the model store: {Message}", e.Message);
        }
    }

    public static bool IsLoadFailure(Exception e) =>
        e is ModelFormatException or IOException or Engine.Ann.IndexFormatException or InvalidOperationException or UnauthorizedAccessException
            or System.Text.Json.JsonException;

    /// <summary>A failure of the version's files themselves (not of the disk or permissions right now): worth remembering.</summary>
    private static bool IsMalformed(Exception e) => e is ModelFormatException or Engine.Ann.IndexFormatException or System.Text.Json.JsonException;

    /// <summary>
    /// Validates a stored candidate, compares its holdout NDCG@10 with the serving model's, and when it
    /// is good enough promotes it in the store and swaps it in.
    /// </summary>
    public LoadOutcome TryPromote(string version)
    {
        lock (_changes) return TryPromoteLocked(version);
    }

    private LoadOutcome TryPromoteLocked(string version)
    {
        ServingModel candidate;
        try
        {
            candidate = Load(version);
        }
        catch (Exception e) when (IsLoadFailure(e))
        {
            return Record(new LoadOutcome(time.GetUtcNow().UtcDateTime, false, version, $"candidate {version} not promoted: it does not load: {e.Message}"));
        }
        var serving = _current;
        double? now = serving?.Manifest?.Ndcg;
        double? next = candidate.Manifest?.Ndcg;
        if (now is { } a && next is { } b && b < a - options.NdcgTolerance)
        {
            return Record(new LoadOutcome(time.GetUtcNow().UtcDateTime, false, version,
                $"candidate {version} not promoted: holdout ndcg@10 {b:F4} is below the serving model's {a:F4} by more than the tolerance {options.NdcgTolerance}"));
        }
        store.Promote(version);
        Swap(candidate);
        return Record(new LoadOutcome(time.GetUtcNow().UtcDateTime, true, version, $"promoted and serving {version}"));
    }

    /// <summary>
    /// An operator's promotion (POST /admin/models/{version}/promote): no quality gate, but the version
    /// must load before the store's pointer moves, so a version that does not load never becomes current.
    /// </summary>
    public LoadOutcome PromoteNow(string version) => OperatorChange(version, () =>
        store.Versions().Contains(version)
            ? LoadThenPoint(version, () => store.Promote(version), $"promoted and serving {version}")
            : Refused(version, $"no model version '{version}' in the store"));

    /// <summary>
    /// Back to the previously promoted version (POST /admin/models/rollback), loaded before the store's
    /// pointer moves; a target that does not load is marked broken when malformed, and nothing changes.
    /// With <paramref name="expected"/> (the target the operator was shown), a different target is
    /// refused: a repeated click must not roll back twice.
    /// </summary>
    public LoadOutcome RollBack(string? expected = null) => OperatorChange(expected, () =>
    {
        if (store.RollbackTarget() is not { } target) return Refused(null, "no earlier promoted version to roll back to");
        if (expected is not null && target != expected)
        {
            return Refused(expected, $"the previous version is now {target}, not {expected} (serving {_current?.Version ?? "nothing"}): nothing changed");
        }
        return LoadThenPoint(target, () => store.Rollback(target), $"rolled back to {target}");
    });

    /// <summary>How long an operator's change waits for one in progress (a training's promotion, a reload) before it is refused.</summary>
    private static readonly TimeSpan OperatorWait = TimeSpan.FromSeconds(2);

    /// <summary>An operator's change under the change lock, refused rather than queued behind a long load, and the store's I/O failures reported, not thrown.</summary>
    private LoadOutcome OperatorChange(string? version, Func<LoadOutcome> change)
    {
        if (!Monitor.TryEnter(_changes, OperatorWait))
        {
            return Refused(version, "another model change (a training's promotion, a reload) is in progress; try again when /model shows it done");
        }
        try
        {
            return change();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Refused(version, $"the model store cannot be read: {e.Message}");
        }
        finally
        {
            Monitor.Exit(_changes);
        }
    }

    /// <summary>A change refused before anything loaded: logged, but not the last load /model reports.</summary>
    private LoadOutcome Refused(string? version, string message)
    {
        log.LogWarning("model change refused: {Message}", message);
        return new LoadOutcome(time.GetUtcNow().UtcDateTime, false, version, message);
    }

    private LoadOutcome LoadThenPoint(string version, Action point, string success)
    {
        ServingModel loaded;
        try
        {
            loaded = Load(version);
        }
        catch (Exception e) when (IsLoadFailure(e))
        {
            if (IsMalformed(e)) Note(() => store.MarkBroken(version, e.Message));
            return Record(new LoadOutcome(time.GetUtcNow().UtcDateTime, false, version, $"{version} does not load: {e.Message}; {_current?.Version ?? "nothing"} keeps serving") { Malformed = IsMalformed(e) });
        }
        try
        {
            point();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            return Record(new LoadOutcome(time.GetUtcNow().UtcDateTime, false, version, $"could not update the model store: {e.Message}; {_current?.Version ?? "nothing"} keeps serving"));
        }
        Swap(loaded);
        return Record(new LoadOutcome(time.GetUtcNow().UtcDateTime, true, version, success));
    }

    /// <summary>Loads a stored version without serving it (an experiment arm's model); throws what <see cref="IsLoadFailure"/> recognises.</summary>
    public ServingModel LoadVersion(string version) => Load(version);

    private ServingModel Load(string version)
    {
        string dir = store.VersionDirectory(version);
        // The manifest first: a version that is refused for it should not build and save indexes first.
        var manifest = store.ReadManifest(version);
        var model = ModelFile.Load(Path.Combine(dir, ModelStore.ModelFileName));
        if (model.ItemCount == 0) throw new InvalidOperationException($"{version} has no items");
        var retrievers = ItemRetrievers.Create(model, options.Retrieval, dir);
        var recommender = new Recommender(model, retrievers: retrievers);
        recommender.Prepare();
        if (options.Retrieval.PrecomputedLength > 0) recommender.Precompute(options.Retrieval.PrecomputedLength, dir);
        var serving = new ServingModel(version, manifest, model, recommender, time.GetUtcNow().UtcDateTime);
        Note(() => store.ClearBroken(version));
        serving.Fields(_catalog);
        PrepareLegacyPool(_catalog, serving);
        return serving;
    }

    private void Swap(ServingModel next)
    {
        lock (_swap)
        {
            var previous = _current;
            ServerMetrics.ModelTracksWithoutMetadata.Set(next.Fields(_catalog).WithoutMetadata);
            PrepareLegacyPool(_catalog, next);
            _current = next;
            if (previous is not null) ServerMetrics.ModelVersion.WithLabels(previous.Version).Set(0);
            ServerMetrics.ModelVersion.WithLabels(next.Version).Set(1);
            if (previous is not null) CollectPreviousSoon();
            Swapped?.Invoke(next);
        }
    }

    private int _collectionPending;
    private long _lastSwap;

    /// <summary>
    /// After a swap the previous model (factors, graphs, rendered bindings: mostly large arrays) is
    /// garbage, but the runtime keeps freed memory for reuse, so RSS went from 324 to 588 MB over 20
    /// reloads of the 50k demo and stayed there (docs/reliability.md). One aggressive full collection
    /// <see cref="CollectAfterSwap"/> after the last of a series of swaps, once the requests that
    /// captured the old models are done, compacts and gives the memory back. It pauses requests once
    /// (logged with its length; <c>RecSys:CollectAfterSwap</c> false turns it off).
    /// </summary>
    private void CollectPreviousSoon()
    {
        Volatile.Write(ref _lastSwap, Environment.TickCount64);
        if (!options.CollectAfterSwap || Interlocked.Exchange(ref _collectionPending, 1) == 1) return;
        _ = Task.Run(async () =>
        {
            // Debounced on the last swap: one that comes while waiting moves the collection later.
            long wait;
            while ((wait = Volatile.Read(ref _lastSwap) + (long)CollectAfterSwap.TotalMilliseconds - Environment.TickCount64) > 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(wait));
            }
            Volatile.Write(ref _collectionPending, 0);
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            var info = GC.GetGCMemoryInfo(GCKind.FullBlocking);
            log.LogInformation("memory of the models before {Version} returned: heap {HeapMb:F0} MB, paused {PauseMs:F1} ms",
                _current?.Version, info.HeapSizeBytes / 1048576.0, info.PauseDurations[0].TotalMilliseconds);
        });
    }

    private static readonly TimeSpan CollectAfterSwap = TimeSpan.FromSeconds(2);

    private LoadOutcome Record(LoadOutcome outcome)
    {
        LastReload = outcome;
        ServerMetrics.Reloads.WithLabels(outcome.Ok ? "ok" : "failed").Inc();
        if (outcome.Ok) log.LogInformation("{Message}", outcome.Message);
        else log.LogWarning("{Message}", outcome.Message);
        return outcome;
    }
}
