using Gatekeeper.FunctionalTests.Infrastructure;

namespace Gatekeeper.FunctionalTests.Interop;

/// <summary>A gatekeeper server and one run of tests/interop/python/client.py (grpcio) against it.</summary>
public sealed class PythonClientFixture : IAsyncLifetime
{
    private GatekeeperServer? _server;

    /// <summary>What the grpcio client saw.</summary>
    public PeerRun Run { get; private set; } = null!;

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        _server = await GatekeeperServer.StartAsync();
        using var scratch = new TempDirectory();
        Run = await PeerRun.RunAsync(
            _server,
            InteropEnvironment.RequirePython,
            InteropEnvironment.Python,
            ["client.py", "--target", _server.Target, "--protos", InteropEnvironment.ProtosDirectory, "--scratch", scratch.Path],
            InteropEnvironment.PythonDirectory,
            TimeSpan.FromSeconds(90));
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

/// <summary>A gatekeeper server and one run of tests/interop/node/client.js (@grpc/grpc-js) against it.</summary>
public sealed class NodeClientFixture : IAsyncLifetime
{
    private GatekeeperServer? _server;

    /// <summary>What the grpc-js client saw.</summary>
    public PeerRun Run { get; private set; } = null!;

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        _server = await GatekeeperServer.StartAsync();
        Run = await PeerRun.RunAsync(
            _server,
            InteropEnvironment.RequireNode,
            "node",
            ["client.js", "--target", _server.Target, "--protos", InteropEnvironment.ProtosDirectory],
            InteropEnvironment.NodeDirectory,
            TimeSpan.FromSeconds(90));
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
