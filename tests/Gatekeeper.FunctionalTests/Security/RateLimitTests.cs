using Gatekeeper.Client;
using Gatekeeper.V1;
using StatusCode = Gatekeeper.Protocol.StatusCode;

namespace Gatekeeper.FunctionalTests.Security;

/// <summary>Per-caller token buckets through the real server (plain text on loopback, so the caller is anonymous-loopback).</summary>
public sealed class RateLimitTests
{
    private static readonly DecideRequest Question = new() { Category = "cpis_flag", Recipient = "nhs_cpis", Purpose = "cpis_alert", RequestId = "rate" };

    [Fact]
    public async Task Decide_CallerOverItsPolicyRateLimit_ResourceExhaustedWithRetryPushback()
    {
        await using var server = await SecureServer.StartAsync("""
            callers:
              anonymous-loopback:
                categories: '*'
                purposes: '*'
                rate_limit: { per_second: 0.5, burst: 3 }
            """);
        using var client = server.CreateClient();
        for (var i = 0; i < 3; i++)
        {
            await client.DecideAsync(Question);
        }

        var error = await Assert.ThrowsAsync<RpcException>(() => client.DecideAsync(Question));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        var pushback = long.Parse(error.Trailers.GetValue("grpc-retry-pushback-ms")!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(pushback, 1, 2_000);
        Assert.Contains("anonymous-loopback", error.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Decide_ConfiguredDefaultLimit_AppliesToCallersWithoutTheirOwn()
    {
        await using var server = await SecureServer.StartAsync(
            "callers:\n  anonymous-loopback:\n    categories: '*'\n    purposes: '*'\n",
            "--Gatekeeper:RateLimit:PermitsPerSecond=0.5",
            "--Gatekeeper:RateLimit:Burst=2");
        using var client = server.CreateClient();
        await client.DecideAsync(Question);
        await client.DecideAsync(Question);

        var error = await Assert.ThrowsAsync<RpcException>(() => client.DecideAsync(Question));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
    }

    [Fact]
    public async Task Decide_UnlimitedCaller_ManyCallsNeverLimited()
    {
        await using var server = await SecureServer.StartAsync(
            "callers:\n  anonymous-loopback:\n    categories: '*'\n    purposes: '*'\n    rate_limit: unlimited\n",
            "--Gatekeeper:RateLimit:PermitsPerSecond=0.5",
            "--Gatekeeper:RateLimit:Burst=1");
        using var client = server.CreateClient();

        for (var i = 0; i < 20; i++)
        {
            await client.DecideAsync(Question);
        }
    }
}
