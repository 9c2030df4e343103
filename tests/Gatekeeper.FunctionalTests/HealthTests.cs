using Gatekeeper.Client;
using Gatekeeper.FunctionalTests.Infrastructure;
using Gatekeeper.Protocol;
using Grpc.Health.V1;

namespace Gatekeeper.FunctionalTests;

/// <summary>grpc.health.v1.Health through Gatekeeper.Client on a running server (shutdown is in <see cref="ShutdownTests"/>).</summary>
public sealed class HealthTests : IClassFixture<GatekeeperServerFixture>, IDisposable
{
    private readonly GatekeeperClient _client;
    private readonly VerifyNoErrorsScope _errors;

    public HealthTests(GatekeeperServerFixture fixture)
    {
        _client = fixture.Client;
        _errors = fixture.Server.Logs.VerifyNoErrors();
    }

    public void Dispose() => _errors.Dispose();

    [Theory]
    [InlineData("")]
    [InlineData("gatekeeper.v1.Gatekeeper")]
    public async Task CheckHealth_KnownServiceOfStartedServer_Serving(string service)
    {
        // Act
        var response = await _client.CheckHealthAsync(service);

        // Assert
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
    }

    [Fact]
    public async Task CheckHealth_UnknownService_NotFound()
    {
        // Act
        var ex = await Assert.ThrowsAsync<RpcException>(() => _client.CheckHealthAsync("no.such.Service"));

        // Assert
        Assert.Equal(StatusCode.NotFound, ex.StatusCode);
    }

    [Fact]
    public async Task WatchHealth_StartedServer_FirstMessageIsServing()
    {
        // Arrange
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var call = _client.WatchHealthAsync("gatekeeper.v1.Gatekeeper", cancellationToken: cts.Token);

        // Act
        HealthCheckResponse? first = null;
        await foreach (var message in call)
        {
            first = message;
            break;
        }

        // Assert
        Assert.NotNull(first);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, first.Status);
    }

    [Fact]
    public async Task WatchHealth_UnknownService_ServiceUnknownRatherThanError()
    {
        // Arrange
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var call = _client.WatchHealthAsync("no.such.Service", cancellationToken: cts.Token);

        // Act
        HealthCheckResponse? first = null;
        await foreach (var message in call)
        {
            first = message;
            break;
        }

        // Assert
        Assert.NotNull(first);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.ServiceUnknown, first.Status);
    }
}
