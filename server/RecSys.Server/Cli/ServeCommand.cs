using System.CommandLine;
using RecSys.Server.Configuration;

namespace RecSys.Server.Cli;

/// <summary><c>recsys serve</c>: the HTTP API (also what a bare <c>./recsys</c> runs).</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var cmd = new Command("serve", "Serve recommendations over HTTP (trains a model first when none exists)");
        var port = new Option<int?>("--port") { Description = "Port (default 8000; RecSys:Port)" };
        var host = new Option<string?>("--host") { Description = "Address to listen on (default 127.0.0.1)" };
        var db = CliOptions.Db();
        var storage = new Option<string?>("--storage") { Description = "Model store folder (default storage/recommender)" };
        var input = new Option<string?>("--input") { Description = "Train from this interaction file instead of the database or the demo" };
        var metadata = new Option<string?>("--metadata") { Description = "Track metadata file (Last.fm artists.dat) for file-trained models" };
        var token = new Option<string?>("--admin-token") { Description = "Bearer token that enables POST /admin/reload and /admin/train" };
        var schedule = new Option<string?>("--schedule") { Description = "Cron schedule of retraining (default '0 3 * * *', in RecSys:ScheduleTimeZone, UTC unless set; '' turns it off)" };
        var allowMissing = new Option<bool>("--allow-missing-metadata") { Description = "Start even when the configured track metadata cannot be read (/ready then says degraded)" };
        var settings = new SettingsOption();
        foreach (var o in new Option[] { port, host, db, storage, input, metadata, token, schedule, allowMissing, settings.Set }) cmd.Options.Add(o);
        cmd.SetAction(async (r, ct) =>
        {
            var overrides = settings.Overrides(r,
            [
                new("Port", r.GetValue(port)?.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new("Host", r.GetValue(host)),
                new("Db", r.GetValue(db)),
                new("Storage", r.GetValue(storage)),
                new("InputFile", r.GetValue(input)),
                new("MetadataFile", r.GetValue(metadata)),
                new("AdminToken", r.GetValue(token)),
                new("Schedule", r.GetValue(schedule)),
                new("AllowMissingMetadata", r.GetValue(allowMissing) ? "true" : null),
            ]);
            ServerOptions options;
            try
            {
                options = ServerConfiguration.Bind(ServerConfiguration.Build(overrides));
            }
            catch (InvalidOperationException e)
            {
                throw new CliException(e.Message);
            }
            if (options.InlineScheduling) PreferInlineSocketCompletions(options.IoThreads);
            var app = ServerHost.Build(options);
            await app.RunAsync(ct);
            return 0;
        });
        return cmd;
    }

    private const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
    private const string SocketThreads = "DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT";

    /// <summary>
    /// Inline scheduling runs a request on the thread that completed its socket read; the runtime
    /// completes reads on its epoll threads (instead of queueing them to the thread pool) only with
    /// this variable, read when the process makes its first socket, so it is set before the server
    /// is built, unless the environment already says otherwise. Requests then run on the runtime's
    /// socket threads (one per core unless <paramref name="ioThreads"/> says how many). Measured in
    /// docs/benchmarks.md.
    /// </summary>
    private static void PreferInlineSocketCompletions(int ioThreads)
    {
        if (Environment.GetEnvironmentVariable(InlineCompletions) is null) Environment.SetEnvironmentVariable(InlineCompletions, "1");
        if (ioThreads > 0 && Environment.GetEnvironmentVariable(SocketThreads) is null)
        {
            Environment.SetEnvironmentVariable(SocketThreads, ioThreads.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }
}
