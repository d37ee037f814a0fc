namespace RecSys.Tests.Server;

/// <summary>One shared server for the endpoint tests (training it once keeps the suite fast).</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public TestServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
