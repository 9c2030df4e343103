using Gatekeeper.Client;
using Gatekeeper.FunctionalTests.Infrastructure;

namespace Gatekeeper.FunctionalTests.Telemetry;

/// <summary>A test OTLP receiver and a gatekeeper exporting to it, shared by the tests of a class.</summary>
public sealed class TelemetryFixture : IAsyncLifetime
{
    private OtlpReceiver? _receiver;
    private GatekeeperServer? _server;
    private GatekeeperClient? _client;

    public OtlpReceiver Receiver => _receiver ?? throw new InvalidOperationException("The fixture has not started.");

    public GatekeeperServer Server => _server ?? throw new InvalidOperationException("The fixture has not started.");

    public GatekeeperClient Client => _client ?? throw new InvalidOperationException("The fixture has not started.");

    public async Task InitializeAsync()
    {
        _receiver = await OtlpReceiver.StartAsync();
        _server = await GatekeeperServer.StartAsync(_receiver.ServerArgs());
        _client = _server.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        if (_receiver is not null)
        {
            await _receiver.DisposeAsync();
        }
    }
}
