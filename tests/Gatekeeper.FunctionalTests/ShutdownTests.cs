using Gatekeeper.FunctionalTests.Infrastructure;
using Gatekeeper.Protocol;
using Gatekeeper.V1;
using Grpc.Health.V1;
using RpcException = Gatekeeper.Client.RpcException;

namespace Gatekeeper.FunctionalTests;

/// <summary>Graceful shutdown: every test starts and stops a server of its own.</summary>
public sealed class ShutdownTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task WatchHealth_HostStops_SeesNotServingThenStreamEnds()
    {
        // Arrange
        await using var server = await GatekeeperServer.StartAsync();
        using var errors = server.Logs.VerifyNoErrors();
        using var client = server.CreateClient();
        using var cts = new CancellationTokenSource(Bound);
        var seen = new List<HealthCheckResponse.Types.ServingStatus>();
        Task? stopping = null;
        Exception? ending = null;

        // Act
        try
        {
            await foreach (var message in client.WatchHealthAsync(cancellationToken: cts.Token))
            {
                seen.Add(message.Status);
                stopping ??= server.StopAsync();
            }
        }
        catch (RpcException ex)
        {
            ending = ex;
        }

        // Assert
        Assert.False(cts.IsCancellationRequested, $"The stream did not end within {Bound.TotalSeconds} s of the host stopping; saw [{string.Join(", ", seen)}].");
        Assert.Equal([HealthCheckResponse.Types.ServingStatus.Serving, HealthCheckResponse.Types.ServingStatus.NotServing], seen);
        Assert.True(ending is null or RpcException { StatusCode: StatusCode.Unavailable }, $"The stream should end OK or UNAVAILABLE, not {ending}");
        Assert.NotNull(stopping);
        await stopping.WaitAsync(Bound);
    }

    [Fact]
    public async Task Stop_CallInFlight_CallFinishesOkAndLaterCallsFail()
    {
        // Arrange
        await using var server = await GatekeeperServer.StartAsync();
        using var errors = server.Logs.VerifyNoErrors();
        using var client = server.CreateClient();
        var wait = server.Testing.WaitCall(TestingMethods.DelayPrefix + "300");
        var inFlight = client.UnaryCallAsync(TestingMethods.Wait, new DecideRequest { RequestId = TestingMethods.DelayPrefix + "300" }, DecideResponse.Parser);
        await wait.Started.Task.WaitAsync(Bound);

        // Act
        var stopping = server.StopAsync();
        var result = await inFlight.WaitAsync(Bound);
        await stopping.WaitAsync(Bound);
        var after = await Assert.ThrowsAsync<RpcException>(() => client.DecideAsync(DecideTests.Allowed("after_stop")).WaitAsync(Bound));

        // Assert
        Assert.Equal("waited", result.Response.Reason);
        Assert.True(wait.Completed.Task.IsCompletedSuccessfully, "The handler should have run to completion, not been cancelled.");
        Assert.Equal(StatusCode.Unavailable, after.StatusCode);
    }
}
