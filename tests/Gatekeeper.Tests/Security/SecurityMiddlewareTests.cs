using System.Net;
using Gatekeeper.Policy;
using Gatekeeper.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatekeeper.Tests.Security;

/// <summary>
/// The middleware in front of the gRPC endpoint, with connections from addresses the tests cannot really use
/// (network traffic stays on 127.0.0.1).
/// </summary>
public sealed class SecurityMiddlewareTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("gk-mw-").FullName;
    private readonly PolicyProvider _policies;

    public SecurityMiddlewareTests()
    {
        File.WriteAllText(Path.Combine(_folder, "p.yaml"), """
            categories: { c: { class: personal } }
            recipient_classes: { k: { description: k } }
            recipients: { r: { class: k } }
            purposes: { p: { description: p } }
            rules:
              - id: r1
                effect: deny
                categories: '*'
                recipients: '*'
                purposes: '*'
                reason: r
                source: s
            callers:
              anonymous-loopback:
                categories: '*'
                purposes: '*'
              anonymous:
                categories: '*'
                purposes: '*'
            """);
        _policies = new PolicyProvider(_folder, NullLogger<PolicyProvider>.Instance, new ManualTimeProvider(), PolicyLoaderOptions.Default, PolicyProvider.DefaultDebounce, watch: false);
    }

    public void Dispose()
    {
        _policies.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    private async Task<(bool Reached, HttpContext Http)> InvokeAsync(string remote, bool allowInsecure)
    {
        var reached = false;
        var middleware = new SecurityMiddleware(
            _ =>
            {
                reached = true;
                return Task.CompletedTask;
            },
            _policies,
            new CallerRateLimiter(new RateLimitOptions { PermitsPerSecond = 0 }, new ManualTimeProvider()),
            allowInsecure,
            NullLogger.Instance);
        var http = new DefaultHttpContext();
        http.Connection.RemoteIpAddress = IPAddress.Parse(remote);
        await middleware.InvokeAsync(http);
        return (reached, http);
    }

    [Fact]
    public async Task InvokeAsync_PlainTextFromAnotherHost_PermissionDeniedWithoutReachingTheEndpoint()
    {
        var (reached, http) = await InvokeAsync("10.0.0.9", allowInsecure: false);

        Assert.False(reached);
        Assert.Equal("7", http.Response.Headers["grpc-status"].ToString());
        Assert.Contains("loopback", http.Response.Headers["grpc-message"].ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvokeAsync_PlainTextFromAnotherHostWithAllowInsecure_Reached()
    {
        var (reached, _) = await InvokeAsync("10.0.0.9", allowInsecure: true);

        Assert.True(reached);
    }

    [Fact]
    public async Task InvokeAsync_PlainTextFromLoopback_Reached()
    {
        var (reached, _) = await InvokeAsync("127.0.0.1", allowInsecure: false);

        Assert.True(reached);
    }
}
