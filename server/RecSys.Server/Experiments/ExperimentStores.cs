using Npgsql;
using RecSys.Engine.Data;
using RecSys.Engine.Events;
using RecSys.Engine.Experiments;
using RecSys.Server.Configuration;

namespace RecSys.Server.Experiments;

/// <summary>
/// Where a deployment keeps experiments, exposures and plays: all in PostgreSQL with a database (plays
/// from the mapped interactions table, whoever wrote them), else under the storage folder (plays from
/// the embedded event log). The server and <c>recsys ab</c> open the same ones from the same settings.
/// </summary>
public sealed class ExperimentStores(IExperimentStore definitions, Func<IExposureStore> openExposures, Func<DateTime, DateTime, IEnumerable<PlayEvent>> plays, string playsSource) : IDisposable
{
    public IExperimentStore Definitions { get; } = definitions;
    public string PlaysSource { get; } = playsSource;

    /// <summary>Opens the exposure store for writing (the server; one writer per storage folder).</summary>
    public IExposureStore OpenExposures() => openExposures();

    /// <summary>Reads exposures without opening the store for writing (so a report can run beside the server).</summary>
    public Func<string, IEnumerable<Exposure>> ReadExposures { get; init; } = _ => [];

    /// <summary>Creates what the stores need (the database's tables); run before the first use, again after a failure.</summary>
    public Action Prepare { get; init; } = () => { };

    public IEnumerable<PlayEvent> Plays(DateTime from, DateTime to) => plays(from, to);

    public static ExperimentStores For(ServerOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.Db))
        {
            // A data source of their own: these stores are synchronous (writer thread, reports on pool
            // threads), and a pooled connection used asynchronously before would make each synchronous
            // call wait through the socket threads.
            var source = NpgsqlDataSource.Create(options.Db);
            var exposures = new PostgresExposureStore(source);
            return new ExperimentStores(new PostgresExperimentStore(source), () => new PostgresExposureStore(source),
                (from, to) => PostgresPlays.Between(source, options.DbMapping, from, to), $"postgres {options.DbMapping.Interactions.Table}")
            {
                ReadExposures = exposures.Read,
                Prepare = () =>
                {
                    using var connection = source.OpenConnection();
                    PostgresExperimentTables.Create(connection);
                },
                Owned = source,
            };
        }
        string events = Path.Combine(options.Storage, "events");
        string log = ExposureLog.PathIn(options.Storage);
        return new ExperimentStores(new ExperimentFiles(options.Storage), () => ExposureLog.Open(options.Storage),
            (from, to) => EventLog.ReadFile(events).Select(r => r.Event).Where(e => e.PlayedAtUtc >= from && e.PlayedAtUtc < to),
            $"event log {Path.Combine(events, EventLog.FileName)}")
        {
            ReadExposures = id => ExposureLog.ReadFile(log).Where(e => e.Experiment == id),
        };
    }

    /// <summary>What the stores hold open (the database pool of their own), released with them.</summary>
    private IDisposable? Owned { get; init; }

    public void Dispose() => Owned?.Dispose();
}
