using Gatekeeper.Client;
using Gatekeeper.Hosting;
using Gatekeeper.Security;
using Gatekeeper.Transport;
using Gatekeeper.V1;

namespace Gatekeeper.FunctionalTests.Security;

/// <summary>The caller's name is worked out once per TLS connection, not once per call (the hot path).</summary>
public sealed class CallerCachingTests
{
    private const string Probe = "gatekeeper.testing.Security";

    [Fact]
    public async Task CallerIdentity_SeveralCallsOnOneMutualTlsConnection_ComputedOnceAndCachedOnTheConnection()
    {
        using var pki = new TestPki();
        var server = pki.IssueServer("server");
        var client = pki.IssueClient("client", uri: "spiffe://council.test/probe");
        var seen = new System.Collections.Concurrent.ConcurrentQueue<(string Caller, object? Feature)>();
        await using var host = await SecureServer.StartTlsAsync(
            "callers:\n  spiffe://council.test/probe:\n    categories: '*'\n    purposes: '*'\n",
            server.CertificatePath,
            server.KeyPath,
            pki.CaPath,
            builder => builder.Services.AddGrpcMethods(_ =>
            [
                ServerMethod.Unary<DecideRequest, DecideResponse>(Probe, "Caller", DecideRequest.Parser, (_, context) =>
                {
                    var caller = context.Caller;
                    seen.Enqueue((caller, context.HttpContext.Features.Get<CallerFeature>()));
                    return ValueTask.FromResult(new DecideResponse { RuleId = caller });
                }),
            ]));
        using var grpc = host.CreateClient(pki, client);

        for (var i = 0; i < 3; i++)
        {
            await grpc.UnaryCallAsync($"/{Probe}/Caller", new DecideRequest(), DecideResponse.Parser);
        }

        Assert.Equal(3, seen.Count);
        Assert.All(seen, s => Assert.Equal("spiffe://council.test/probe", s.Caller));
        var features = seen.Select(s => s.Feature).ToList();
        Assert.All(features, Assert.NotNull);
        Assert.Single(features.Distinct());
    }
}
