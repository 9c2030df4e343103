using Gatekeeper.Client;
using Gatekeeper.FunctionalTests.Infrastructure;
using Gatekeeper.Protocol;
using Gatekeeper.V1;

namespace Gatekeeper.FunctionalTests;

/// <summary>Gatekeeper:Grpc:MaxReceiveMessageSize, set to 1 KiB on the command line as an operator would.</summary>
public sealed class ReceiveLimitTests : IClassFixture<SmallReceiveLimitFixture>, IDisposable
{
    private readonly GatekeeperServer _server;
    private readonly VerifyNoErrorsScope _errors;

    public ReceiveLimitTests(SmallReceiveLimitFixture fixture)
    {
        _server = fixture.Server;
        _errors = fixture.Server.Logs.VerifyNoErrors();
    }

    public void Dispose() => _errors.Dispose();

    private static DecideRequest OfSize(int approximateBytes) =>
        new() { Category = "health_disability", Recipient = "gp_surgery", Purpose = "social_care", SubjectRef = new string('s', approximateBytes) };

    [Fact]
    public async Task Decide_MessageOverLimit_ResourceExhausted()
    {
        // Arrange
        using var client = _server.CreateClient();
        var request = OfSize(SmallReceiveLimitFixture.Limit + 10);

        // Act
        var ex = await Assert.ThrowsAsync<RpcException>(() => client.DecideAsync(request));

        // Assert
        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [Fact]
    public async Task Decide_CompressedMessageInflatingOverLimit_ResourceExhausted()
    {
        // Arrange
        using var client = _server.CreateClient(o => o.CompressRequests = true);
        var request = OfSize(SmallReceiveLimitFixture.Limit * 8);

        // Act
        var ex = await Assert.ThrowsAsync<RpcException>(() => client.DecideAsync(request));

        // Assert
        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [Fact]
    public async Task Decide_MessageUnderLimit_Answered()
    {
        // Arrange
        using var client = _server.CreateClient();
        var request = OfSize(200);

        // Act
        var response = await client.DecideAsync(request);

        // Assert
        Assert.NotEqual(Decision.Unspecified, response.Decision);
    }
}
