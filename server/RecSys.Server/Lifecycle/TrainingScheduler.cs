using Cronos;
using RecSys.Server.Configuration;

namespace RecSys.Server.Lifecycle;

/// <summary>
/// Runs training on a cron schedule in <see cref="ServerOptions.ScheduleTimeZone"/> (UTC by default; a
/// zone with daylight saving time keeps 03:00 local across the change), the original design's daily
/// 03:00 job by default. Time comes from the injected <see cref="TimeProvider"/>, so tests drive it
/// with a fake clock.
/// </summary>
public sealed class TrainingScheduler(ServerOptions options, TrainingService training, TimeProvider time, ILogger<TrainingScheduler> log) : BackgroundService
{
    /// <summary>Scheduled runs started so far (observable by tests and /model).</summary>
    public int Fired { get; private set; }

    public DateTime? NextRunUtc { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (string.IsNullOrWhiteSpace(options.Schedule))
        {
            log.LogInformation("scheduled training is off");
            return;
        }
        var cron = CronExpression.Parse(options.Schedule);
        while (!stoppingToken.IsCancellationRequested)
        {
            var now = time.GetUtcNow().UtcDateTime;
            var next = cron.GetNextOccurrence(now, options.ScheduleZone);
            if (next is null) return;
            NextRunUtc = next;
            try
            {
                await Task.Delay(next.Value - now, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            Fired++;
            if (training.TryStart("schedule", out var run, scheduledFor: next))
            {
                await run;
            }
            else
            {
                log.LogInformation("scheduled training skipped: a run is already in progress");
            }
        }
    }
}
