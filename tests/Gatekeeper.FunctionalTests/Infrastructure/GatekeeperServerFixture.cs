using Gatekeeper.Client;

namespace Gatekeeper.FunctionalTests.Infrastructure;

/// <summary>One real gatekeeper server (and a client of it) per test class.</summary>
public sealed class GatekeeperServerFixture : IAsyncLifetime
{
    private GatekeeperServer? _server;
    private GatekeeperClient? _client;

    /// <summary>The server.</summary>
    public GatekeeperServer Server => _server ?? throw new InvalidOperationException("The fixture has not started.");

    /// <summary>A client of the server, shared by the tests of the class.</summary>
    public GatekeeperClient Client => _client ?? throw new InvalidOperationException("The fixture has not started.");

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        _server = await GatekeeperServer.StartAsync();
        _client = _server.CreateClient();
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        _client?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

/// <summary>A server whose receive limit is 1 KiB, for RESOURCE_EXHAUSTED tests.</summary>
public sealed class SmallReceiveLimitFixture : IAsyncLifetime
{
    /// <summary>The configured limit in bytes.</summary>
    public const int Limit = 1024;

    private GatekeeperServer? _server;

    /// <summary>The server.</summary>
    public GatekeeperServer Server => _server ?? throw new InvalidOperationException("The fixture has not started.");

    /// <inheritdoc />
    public async Task InitializeAsync() => _server = await GatekeeperServer.StartAsync($"--Gatekeeper:Grpc:MaxReceiveMessageSize={Limit}");

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
