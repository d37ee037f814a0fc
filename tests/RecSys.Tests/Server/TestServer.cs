using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RecSys.Engine.Als;
using RecSys.Engine.Data;
using RecSys.Engine.Recommend;
using RecSys.Server.Configuration;
using RecSys.Server.Hosting;
using RecSys.Server.Lifecycle;
using RecSys.Server;

namespace RecSys.Tests.Server;

/// <summary>
/// A real RecSys server on Kestrel, on a free loopback port, over a small demo catalog and a
/// temporary model store. Requests go through sockets and the whole ASP.NET Core pipeline.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    public const string Token = "test-admin-token-0123456789";

    private TestServer(ServerOptions options, WebApplication app)
    {
        Options = options;
        App = app;
    }

    public ServerOptions Options { get; }
    public WebApplication App { get; }
    public HttpClient Http { get; private set; } = null!;
    public string StorageDirectory => Options.Storage;
    public ModelHost Host => App.Services.GetRequiredService<ModelHost>();
    public TrainingService Training => App.Services.GetRequiredService<TrainingService>();

    public static ServerOptions SmallOptions(string storage) => new()
    {
        Port = 0,
        Storage = storage,
        AdminToken = Token,
        Schedule = "",
        Demo = new DemoOptions { Users = 300, Tracks = 1500, Plays = 30_000, Seed = 3 },
        Training = new AlsOptions { Factors = 16, Iterations = 6 },
        Retrieval = new RetrievalOptions { AnnThreshold = 1000 },
        // Off for the server tests (each would search at start-up); TuningServerTests turn it on.
        Tuning = new TuningSettings { Mode = "off" },
    };

    public static async Task<TestServer> StartAsync(
        Func<ServerOptions, ServerOptions>? configure = null, TimeProvider? time = null, bool waitReady = true, Action<WebApplication>? mapMore = null)
    {
        var dir = new TempDir();
        var options = SmallOptions(Path.Combine(dir.Path, "store"));
        options = configure?.Invoke(options) ?? options;
        var problems = options.Validate();
        if (problems.Count > 0) throw new InvalidOperationException(string.Join("; ", problems));
        var app = ServerHost.Build(options, time, logging => logging.SetMinimumLevel(LogLevel.Warning));
        mapMore?.Invoke(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var server = new TestServer(options, app) { Http = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(60) } };
        server._owned = dir;
        if (waitReady) await server.WaitReadyAsync();
        return server;
    }

    private TempDir? _owned;

    public async Task WaitReadyAsync(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(90));
        while (DateTime.UtcNow < deadline)
        {
            // A short timeout per poll: on an overloaded machine one request can stall for a minute
            // (CI saw it), and the next poll usually goes through; only the overall deadline fails the test.
            using var poll = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                using var r = await Http.GetAsync("/ready", poll.Token);
                // Ready, and the training that made the model done (with --db it records itself after
                // the swap): a test's own TryStart must not find it still running.
                if (r.IsSuccessStatusCode && !Training.Running) return;
            }
            catch (OperationCanceledException) when (poll.IsCancellationRequested)
            {
            }
            if (Training.Last is { Ok: false } failed) throw new InvalidOperationException(failed.Message);
            await Task.Delay(100);
        }
        throw new TimeoutException("server did not become ready");
    }

    /// <summary>Starts a training over the admin API and waits until it has finished; returns the version it stored.</summary>
    public async Task<string> TrainAgainAsync()
    {
        string? before = Training.Last?.Version ?? Host.Current?.Version;
        using (var train = Admin("/admin/train")) Assert.Equal(System.Net.HttpStatusCode.Accepted, (await Http.SendAsync(train)).StatusCode);
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (Training.Last?.Version is not { } v || v == before || Training.Running)
        {
            Assert.True(DateTime.UtcNow < deadline, "the training did not finish");
            await Task.Delay(50);
        }
        return Training.Last.Version!;
    }

    public HttpRequestMessage Admin(string path, string? token = Token)
    {
        var m = new HttpRequestMessage(HttpMethod.Post, path);
        if (token is not null) m.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return m;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        _owned?.Dispose();
    }
}
