using Gatekeeper.Hosting;
using Gatekeeper.Transport;
using Gatekeeper.V1;

namespace Gatekeeper.FunctionalTests.Security;

/// <summary>
/// The real server over TLS, where responses go through <see cref="Gatekeeper.Security.TlsRecordCoalescer"/>:
/// many concurrent calls on one connection each get their own answer, and large responses (many records, HTTP/2
/// flow control) arrive whole.
/// </summary>
public sealed class TlsRecordCoalescingTests : IAsyncLifetime
{
    private const string Probe = "gatekeeper.testing.Coalescing";
    private const string Callers = "callers:\n  anonymous-loopback:\n    categories: '*'\n    purposes: '*'\n";

    private readonly TestPki _pki = new();
    private SecureServer _server = null!;

    public async Task InitializeAsync()
    {
        var server = _pki.IssueServer("server");
        try
        {
            _server = await SecureServer.StartTlsAsync(
                Callers,
                server.CertificatePath,
                server.KeyPath,
                null,
                builder => builder.Services.AddGrpcMethods(_ =>
                [
                    ServerMethod.Unary<DecideRequest, DecideResponse>(Probe, "Echo", DecideRequest.Parser, (request, _) =>
                        ValueTask.FromResult(new DecideResponse { RequestId = request.RequestId })),
                    ServerMethod.Unary<DecideRequest, DecideResponse>(Probe, "Large", DecideRequest.Parser, (request, _) =>
                        ValueTask.FromResult(new DecideResponse { RequestId = request.RequestId, Reason = Filler(request.RequestId) })),
                ]));
        }
        catch
        {
            _pki.Dispose();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _pki.Dispose();
    }

    [Fact]
    public async Task ManyConcurrentCalls_OneTlsConnection_EachGetsItsOwnAnswer()
    {
        using var client = _server.CreateClient(_pki);

        var calls = Enumerable.Range(0, 200).Select(async i =>
        {
            var id = $"call-{i}";
            var answer = await client.UnaryCallAsync($"/{Probe}/Echo", new DecideRequest { RequestId = id }, DecideResponse.Parser);
            return (id, answer.Response.RequestId);
        });

        Assert.All(await Task.WhenAll(calls), pair => Assert.Equal(pair.id, pair.RequestId));
    }

    [Fact]
    public async Task LargeResponses_ManyRecordsAndWindowUpdates_ArriveWhole()
    {
        using var client = _server.CreateClient(_pki);

        var calls = Enumerable.Range(0, 6).Select(async i =>
        {
            var id = $"large-{i}";
            var answer = await client.UnaryCallAsync($"/{Probe}/Large", new DecideRequest { RequestId = id }, DecideResponse.Parser);
            return (id, answer.Response.Reason);
        });

        Assert.All(await Task.WhenAll(calls), pair => Assert.Equal(Filler(pair.id), pair.Reason));
    }

    /// <summary>~200 KB that differs per call: larger than HTTP/2's initial 64 KiB window and many TLS records.</summary>
    private static string Filler(string id) => string.Concat(Enumerable.Repeat(id + ";", 200_000 / (id.Length + 1)));
}
