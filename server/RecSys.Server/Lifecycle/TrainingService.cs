using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using RecSys.Engine.Als;
using RecSys.Engine.Data;
using RecSys.Engine.Evaluation;
using RecSys.Engine.Sparse;
using RecSys.Engine.Training;
using RecSys.Engine.Tuning;
using RecSys.Server.Configuration;
using RecSys.Server.Events;
using RecSys.Server.Contracts;
using RecSys.Server.Hosting;
using RecSys.Server.Sources;

namespace RecSys.Server.Lifecycle;

/// <summary>The outcome of one training run.</summary>
public sealed record TrainingOutcome(DateTime StartedUtc, DateTime FinishedUtc, string Trigger, bool Ok, string? Version, bool Promoted, string Message)
{
    /// <summary>The replica that ran it (or declined it).</summary>
    public string? Node { get; init; }

    /// <summary>Not run here: another replica is training, or already did this scheduled run.</summary>
    public bool Skipped { get; init; }
}

/// <summary>
/// Trains from the configured source, evaluates on a holdout, stores a version, and asks the host to
/// promote it. One run at a time, and with replicas one among them all (<see cref="Cluster.ClusterTrainings"/>);
/// a failure is recorded and never touches the serving model.
/// </summary>
public sealed class TrainingService(ServerOptions options, ModelHost host, CatalogService catalog, EventIngest events, Cluster.ClusterNode node, TimeProvider time,
    ILogger<TrainingService> log)
{
    private int _running;

    public bool Running => Volatile.Read(ref _running) == 1;
    public TrainingOutcome? Last { get; private set; }

    /// <summary>The last run that failed, kept after later successes so /model still shows what went wrong and when.</summary>
    public TrainingOutcome? LastError { get; private set; }

    /// <summary>The last run this replica declined because another one trains (null on a single node).</summary>
    public TrainingOutcome? LastSkipped { get; private set; }

    /// <summary>
    /// Starts a run unless one is going here; false when one already is. <paramref name="scheduledFor"/>
    /// (the schedule's occurrence) makes the run once-only among replicas.
    /// </summary>
    /// <param name="waitForLock">With replicas: wait while another node trains, rather than leave it to that node (start-up).</param>
    /// <param name="decline">With replicas, asked once this node holds the training lock: a reason not to run after all, or null.</param>
    public bool TryStart(string trigger, out Task<TrainingOutcome> run, DateTime? scheduledFor = null, bool waitForLock = false, Func<string?>? decline = null)
    {
        if (Interlocked.CompareExchange(ref _running, 1, 0) != 0)
        {
            run = Task.FromResult(new TrainingOutcome(Now, Now, trigger, false, null, false, "a training run is already in progress") { Node = node.Name });
            return false;
        }
        // A run asked for now is answered by any run a replica starts from now on; a scheduled one by its occurrence.
        var request = new Cluster.TrainingRequest(trigger, scheduledFor, scheduledFor is null ? Now : null, waitForLock, decline);
        run = Task.Run(() => RunAsOneTrainer(request));
        return true;
    }

    /// <summary>With replicas, the run takes the one-trainer lock first and records itself; without, it just runs.</summary>
    private async Task<TrainingOutcome> RunAsOneTrainer(Cluster.TrainingRequest request)
    {
        try
        {
            return node.Trainings is { } trainings ? await RunAsOneOf(trainings, request) : await RunLocked(request.Trigger, beforePromotion: null);
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    private async Task<TrainingOutcome> RunAsOneOf(Cluster.ClusterTrainings trainings, Cluster.TrainingRequest request)
    {
        string trigger = request.Trigger;
        var started = Now;
        Cluster.ClusterTrainings.Turn turn;
        try
        {
            turn = await trainings.TryBeginAsync(request, CancellationToken.None);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or IOException or TimeoutException)
        {
            return Failed(started, trigger, new IOException($"cannot take the training lock in PostgreSQL: {e.Message}", e));
        }
        if (turn.Lease is not { } lease)
        {
            log.LogInformation("training ({Trigger}) not run on {Node}: {Reason}", trigger, node.Name, turn.Refusal);
            return LastSkipped = new TrainingOutcome(started, Now, trigger, false, null, false, $"not run here: {turn.Refusal}") { Node = node.Name, Skipped = true };
        }
        await using (lease)
        {
            // On the pool: the lock's query may have resumed here on a socket thread, and training is seconds of CPU.
            var outcome = await Task.Run(() => RunLocked(trigger, lease.LostAsync));
            try
            {
                await lease.FinishAsync(outcome.Ok, outcome.Version, outcome.Promoted, outcome.Message);
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or IOException or TimeoutException)
            {
                // The run itself stands (promoted or not); only its record is incomplete, and the next trainer closes it.
                log.LogWarning("could not record the training run in PostgreSQL: {Message}", e.Message);
            }
            return outcome;
        }
    }

    private DateTime Now => time.GetUtcNow().UtcDateTime;

    /// <param name="beforePromotion">A last reason not to promote what was trained (the training lock was lost), or null to go ahead.</param>
    private async Task<TrainingOutcome> RunLocked(string trigger, Func<Task<string?>>? beforePromotion)
    {
        var started = Now;
        var clock = Stopwatch.StartNew();
        try
        {
            log.LogInformation("training started ({Trigger}) from {Source}", trigger, options.SourceName);
            string input = !string.IsNullOrWhiteSpace(options.Db) ? "db" : options.InputFile is { Length: > 0 } f ? f : "demo";
            // Every event stored up to here is in what is read next: the plays table holds them, or the log is read below.
            // (With replicas a database read: on the pool, as every blocking call here.)
            var (eventsEpoch, eventsThrough) = await Task.Run(events.TrainingMark);
            var data = await InteractionSources.LoadAsync(input, DelimitedFormat.Auto, skipBadRows: false, options.Db, options.DbMapping, options.Demo, CancellationToken.None);
            if (events.Log is { } eventLog) data = await Task.Run(() => LoggedPlays.AddTo(data, eventLog, eventsThrough));
            if (data.SkippedRows > 0)
            {
                log.LogWarning("training skipped {Count} rows of {Source}: {Examples}", data.SkippedRows, data.Source, string.Join("; ", data.SkippedExamples ?? []));
            }
            var matrix = InteractionMatrix.Build(data.Table);
            if (matrix.Nnz == 0) throw new InvalidOperationException($"{data.Source} holds no interactions");

            // Evaluate on a holdout, then train the served model on everything.
            var split = Splits.Random(matrix.UserItems, options.HoldoutFraction, options.Training.Seed);
            var device = Engine.Compute.Gpu.DeviceSelector.Parse(options.Device);
            // Tuned on the holdout's training part: this holdout stays unseen until the metrics below.
            var (settings, tuned) = ChooseSettings(split.Train, matrix.Nnz);
            var evalFactors = ModelBuilder.Train(split.Train, settings, device, out string deviceUsed);
            log.LogInformation("training on {Device}", deviceUsed);
            var als = Evaluator.Evaluate(Evaluator.Als(evalFactors.UserFactors, evalFactors.ItemFactors, evalFactors.Factors), split.Train, split.Test, 10, settings.Threads, options.EvaluationUsers, settings.Seed);
            var popularity = Evaluator.Evaluate(Evaluator.Popularity(split.Train), split.Train, split.Test, 10, settings.Threads, options.EvaluationUsers, settings.Seed);
            var factors = ModelBuilder.Train(matrix.UserItems, settings, device, out _);
            var model = ModelBuilder.Build(matrix, factors, settings, data.Source);

            var metrics = MetricsJson.ToJson(als);
            metrics["popularity"] = MetricsJson.ToJson(popularity);
            metrics["holdout_fraction"] = options.HoldoutFraction;
            metrics["users_evaluated"] = als.Users;
            // The store's registry may be the database's, read and written by blocking calls: on the pool,
            // never on a socket thread an awaited read resumed on (with inline completions it would wait on itself).
            string version = await Task.Run(() => host.Store.Add(model, v => new ModelManifest
            {
                Version = v,
                TrainedAtUtc = Now,
                Source = data.Source,
                Users = model.UserCount,
                Items = model.ItemCount,
                Interactions = matrix.Nnz,
                Parameters = model.ParametersJson is null ? null : JsonNode.Parse(model.ParametersJson),
                Metrics = metrics,
                EventsEpoch = eventsEpoch,
                EventsThrough = eventsThrough,
                Tuned = tuned,
            }));
            // Tracks trained in since the catalog was read get their metadata with the model, not a restart later.
            await catalog.ReloadAsync("promotion", CancellationToken.None);
            var promotion = beforePromotion is not null && await beforePromotion() is { } refused
                ? new LoadOutcome(Now, false, version, $"candidate {version} not promoted: {refused}")
                : await Task.Run(() => host.TryPromote(version));
            var outcome = new TrainingOutcome(started, Now, trigger, true, version, promotion.Ok,
                $"trained {version} in {clock.Elapsed.TotalSeconds:F1} s (holdout ndcg@10 {als.Ndcg:F4}, popularity {popularity.Ndcg:F4}); {promotion.Message}") { Node = node.Name };
            ServerMetrics.Trainings.WithLabels(promotion.Ok ? "promoted" : "not_promoted").Inc();
            ServerMetrics.TrainingLastFailed.Set(0);
            log.LogInformation("{Message}", outcome.Message);
            if (promotion.Ok && events.Feed is { } feed) await Task.Run(() => PruneFeed(feed));
            return Last = outcome;
        }
        catch (Exception e)
        {
            // Whatever went wrong, serving goes on with the current model.
            return Failed(started, trigger, e);
        }
    }

    /// <summary>The shared play feed keeps only what a kept version lacks; a failure here costs disk, not the run.</summary>
    private void PruneFeed(ISharedPlayFeed feed)
    {
        try
        {
            long pruned = feed.Prune();
            if (pruned > 0) log.LogInformation("forgot {Count} play feed rows every kept version was trained on", pruned);
        }
        catch (Exception e)
        {
            // The run was promoted: whatever went wrong here, it stays a successful one.
            log.LogWarning("could not prune the play feed: {Message}", e.Message);
        }
    }

    private TrainingOutcome Failed(DateTime started, string trigger, Exception e)
    {
        var outcome = new TrainingOutcome(started, Now, trigger, false, null, false, $"training failed: {e.GetType().Name}: {e.Message}") { Node = node.Name };
        ServerMetrics.Trainings.WithLabels("failed").Inc();
        ServerMetrics.TrainingLastFailed.Set(1);
        LastError = outcome;
        log.LogError(e, "training failed");
        return Last = outcome;
    }

    /// <summary>
    /// The settings this training uses: RecSys:Training with tuning off; the serving model's tuned
    /// settings while they are recent and the data has not grown much; otherwise a new search, started
    /// from the previous choice (warm start), which adopts nothing that does not beat it on validation.
    /// </summary>
    private (AlsOptions Settings, JsonObject? Tuned) ChooseSettings(CsrMatrix train, long interactions)
    {
        var tuning = options.Tuning;
        if (!tuning.Auto) return (options.Training, null);
        string baseSettings = BaseSettings(options.Training);
        var previous = host.Current?.Manifest?.Tuned;
        // A choice made from other configured settings is not this configuration's: search again, from scratch.
        var chosen = previous?["base"]?.GetValue<string>() == baseSettings ? TunedSettings.Apply(previous, options.Training) : null;
        if (chosen is not null && TunedSettings.TunedAt(previous) is { } at && at <= Now && Now - at < TimeSpan.FromDays(tuning.RetuneDays)
            && TunedSettings.Number(previous, "interactions") is { } before && interactions <= before * (1 + tuning.RetuneGrowth))
        {
            var reused = previous!.DeepClone().AsObject();
            reused["reused"] = true;
            log.LogInformation("tuning: reusing the settings chosen {At:u} on {Before:N0} interactions (now {Now:N0})", at, before, interactions);
            return (chosen, reused);
        }
        var start = chosen ?? options.Training;
        TuningResult result;
        try
        {
            // Seeded by the data's size too: a search again draws other candidates around the previous choice.
            result = SelfTuner.Tune(train, start,
                new TuningOptions { BudgetTrainings = tuning.BudgetTrainings, Candidates = tuning.Candidates, K = 10, Seed = start.Seed ^ (ulong)interactions },
                message => log.LogInformation("tuning: {Message}", message));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The search is an improvement, not a requirement: a failed one trains with what it started from.
            log.LogWarning(e, "tuning failed; training with the settings it started from");
            return (start, new JsonObject { ["error"] = $"{e.GetType().Name}: {e.Message}", ["base"] = baseSettings, ["reused"] = false });
        }
        var json = TunedSettings.ToJson(result, 10);
        json["tuned_at"] = Now.ToString("O", CultureInfo.InvariantCulture);
        json["interactions"] = interactions;
        json["base"] = baseSettings;
        json["reused"] = false;
        log.LogInformation("tuning: chose {Settings} (validation ndcg@10 {Ndcg:F4}) in {Seconds:F1} s", json.ToJsonString(), result.ValidationNdcg, result.Seconds);
        return (result.Best, json);
    }

    /// <summary>The configured settings a search starts from, as text: when they change, an earlier choice no longer applies.</summary>
    private static string BaseSettings(AlsOptions o)
    {
        var json = TunedSettings.Settings(o);
        json["iterations"] = o.Iterations;
        json["seed"] = o.Seed;
        return json.ToJsonString();
    }
}
