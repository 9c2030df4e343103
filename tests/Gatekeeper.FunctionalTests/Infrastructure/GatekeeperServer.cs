using Gatekeeper.Client;
using Gatekeeper.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.FunctionalTests.Infrastructure;

/// <summary>
/// The real gatekeeper host, in-process on 127.0.0.1 with a free port, plus the test methods of
/// <see cref="TestingMethods"/> and a <see cref="LogSink"/> that sees everything it logs.
/// </summary>
public sealed class GatekeeperServer : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(15);
    private bool _stopped;

    private GatekeeperServer(WebApplication app, LogSink logs, TestingState testing, string dataDirectory)
    {
        App = app;
        DataDirectory = dataDirectory;
        Logs = logs;
        Testing = testing;
        var url = app.Urls.FirstOrDefault() ?? throw new InvalidOperationException("The server reported no address.");
        Address = new Uri(url);
    }

    /// <summary>This server's own data directory (audit log), deleted with the server.</summary>
    public string DataDirectory { get; }

    /// <summary>The host.</summary>
    public WebApplication App { get; }

    /// <summary>Everything the server logged.</summary>
    public LogSink Logs { get; }

    /// <summary>What the test methods saw.</summary>
    public TestingState Testing { get; }

    /// <summary>The bound address, e.g. http://127.0.0.1:41234.</summary>
    public Uri Address { get; }

    /// <summary>host:port, as gRPC peers take it.</summary>
    public string Target => $"{Address.Host}:{Address.Port}";

    /// <summary>Starts a server; <paramref name="extraArgs"/> are command-line settings such as --Gatekeeper:Grpc:MaxReceiveMessageSize=1024.</summary>
    public static async Task<GatekeeperServer> StartAsync(params string[] extraArgs)
    {
        var logs = new LogSink();
        var testing = new TestingState();
        var dataDirectory = Directory.CreateTempSubdirectory("gk-func-").FullName;
        string[] args = ["--urls", "http://127.0.0.1:0", $"--Gatekeeper:DataDirectory={dataDirectory}", .. extraArgs];
        var app = GatekeeperApp.Build(args, builder =>
        {
            // Only the sink: test output stays quiet, and the sink sees the gRPC layer's Debug events too.
            builder.Logging.ClearProviders();
            builder.Logging.AddProvider(logs);
            builder.Logging.SetMinimumLevel(LogLevel.Debug);
            builder.Services.AddGrpcMethods(_ => TestingMethods.Create(testing));
        });
        try
        {
            using var cts = new CancellationTokenSource(StartTimeout);
            await app.StartAsync(cts.Token);
            return new GatekeeperServer(app, logs, testing, dataDirectory);
        }
        catch
        {
            await app.DisposeAsync();
            Directory.Delete(dataDirectory, recursive: true);
            throw;
        }
    }

    /// <summary>A client of this server with its own connection pool; <paramref name="configure"/> adjusts its options.</summary>
    public GatekeeperClient CreateClient(Action<GatekeeperClientOptions>? configure = null)
    {
        var options = new GatekeeperClientOptions { Address = Address, DefaultDeadline = TimeSpan.FromSeconds(30) };
        configure?.Invoke(options);
        return new GatekeeperClient(options);
    }

    /// <summary>Stops the host (graceful: in-flight calls may finish), bounded by a timeout.</summary>
    public async Task StopAsync()
    {
        _stopped = true;
        using var cts = new CancellationTokenSource(StopTimeout);
        await App.StopAsync(cts.Token);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_stopped)
            {
                await StopAsync();
            }
        }
        finally
        {
            await App.DisposeAsync();
            Directory.Delete(DataDirectory, recursive: true);
        }
    }
}
