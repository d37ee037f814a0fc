using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Npgsql;
using RecSys.Engine.Data;
using RecSys.Server.Configuration;
using RecSys.Server.Hosting;

namespace RecSys.Tests.Server;

/// <summary>
/// The fold-in lookup against a database that hangs (processes stopped: connections accepted, nothing
/// answered) or is down: a bounded wait, then pauses instead of a connection and a log line per request.
/// </summary>
public sealed class FoldInLookupTests(PostgresFixture db) : IClassFixture<PostgresFixture>, IDisposable
{
    private readonly List<IDisposable> _owned = [];

    public void Dispose()
    {
        foreach (var o in _owned) o.Dispose();
    }

    /// <summary>Warnings logged, counted.</summary>
    private sealed class CountingLogger : ILogger<PostgresUserPlays>
    {
        public int Warnings;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Warning) Interlocked.Increment(ref Warnings);
        }
    }

    private async Task<(PostgresUserPlays Plays, CountingLogger Log)> LookupsAgainst(string connectionString)
    {
        await using (var c = new NpgsqlConnection(db.ConnectionString))
        {
            await c.OpenAsync();
            await PostgresSchema.CreateAsync(c);
        }
        var source = NpgsqlDataSource.Create(connectionString);
        _owned.Add(source);
        var log = new CountingLogger();
        // The mapping is checked on the real database; the lookups go to the one under test.
        var plays = new PostgresUserPlays(source, new ServerOptions { Db = db.ConnectionString }, log);
        await plays.PrepareAsync(CancellationToken.None);
        return (plays, log);
    }

    [Fact]
    public async Task A_hung_database_is_waited_for_at_most_the_timeout_then_left_alone_for_a_while()
    {
        var hung = new TcpListener(IPAddress.Loopback, 0);
        hung.Start();
        _owned.Add(hung);
        int accepted = 0;
        var held = new List<Socket>();
        _ = Task.Run(async () =>
        {
            while (true)
            {
                Socket s;
                try
                {
                    s = await hung.AcceptSocketAsync();
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    return;
                }
                lock (held) held.Add(s);
                Interlocked.Increment(ref accepted);
            }
        });
        // Npgsql's own limits as long as they go (connect 1024 s, cancellation waited for forever): without
        // the lookup's own bound this request would not come back at all, which WaitAsync would report.
        var (plays, log) = await LookupsAgainst(
            $"Host=127.0.0.1;Port={((IPEndPoint)hung.LocalEndpoint).Port};Username=postgres;Database=rec;Timeout=1024;Cancellation Timeout=-1");

        Assert.Empty(await plays.GetAsync(1, CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(2)));

        for (int i = 0; i < 20; i++) Assert.Empty(await plays.GetAsync(2 + i, CancellationToken.None));
        Assert.Equal(20, plays.Skipped);
        Assert.Equal(1, Volatile.Read(ref accepted));
        Assert.Equal(1, log.Warnings);

        // After the pause a burst of concurrent requests sends one probe, not one connection each.
        await Task.Delay(700);
        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => plays.GetAsync(100 + i, CancellationToken.None)));
        Assert.Equal(2, Volatile.Read(ref accepted));
        Assert.Equal(2, log.Warnings);
        Assert.Equal(39, plays.Skipped);
        lock (held) held.ForEach(s => s.Dispose());
    }

    [Fact]
    public async Task A_database_that_is_down_costs_one_attempt_and_one_line_per_pause()
    {
        // A port nothing listens on: every connection is refused at once.
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var (plays, log) = await LookupsAgainst($"Host=127.0.0.1;Port={port};Username=postgres;Database=rec");
        for (int i = 0; i < 200; i++) Assert.Empty(await plays.GetAsync(i, CancellationToken.None));
        Assert.True(plays.Skipped >= 190, $"{plays.Skipped} skipped");
        Assert.InRange(log.Warnings, 1, 3);
    }
}
