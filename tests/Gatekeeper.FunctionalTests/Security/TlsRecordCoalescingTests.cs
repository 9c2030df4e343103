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

    public async Task InitializeAsync() =>
        _server = await SecureServer.StartTlsAsync(_pki, Callers, mutual: false, builder => builder.Services.AddGrpcMethods(_ =>
        [
            ServerMethod.Unary<DecideRequest, DecideResponse>(Probe, "Echo", DecideRequest.Parser, (request, _) =>
                ValueTask.FromResult(new DecideResponse { RequestId = request.RequestId })),
            ServerMethod.Unary<DecideRequest, DecideResponse>(Probe, "Large", DecideRequest.Parser, (request, _) =>
                ValueTask.FromResult(new DecideResponse { RequestId = request.RequestId, Reason = Filler(request.RequestId) })),
        ]));

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _pki.Dispose();
    }

    [Fact]
    public async Task ManyConcurrentCalls_OneTlsConnection_EachGetsItsOwnAnswer()
    {
        var answers = await CallConcurrentlyAsync("Echo", 200);

        Assert.All(answers, pair => Assert.Equal(pair.Id, pair.Response.RequestId));
    }

    [Fact]
    public async Task LargeResponses_ManyRecordsAndWindowUpdates_ArriveWhole()
    {
        var answers = await CallConcurrentlyAsync("Large", 6);

        Assert.All(answers, pair => Assert.Equal(Filler(pair.Id), pair.Response.Reason));
    }

    /// <summary><paramref name="count"/> concurrent calls on one client (one TLS connection), each with its own request id.</summary>
    private async Task<(string Id, DecideResponse Response)[]> CallConcurrentlyAsync(string method, int count)
    {
        using var client = _server.CreateClient(_pki);
        return await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            var id = $"{method}-{i}";
            var answer = await client.UnaryCallAsync($"/{Probe}/{method}", new DecideRequest { RequestId = id }, DecideResponse.Parser);
            return (id, answer.Response);
        }));
    }

    /// <summary>~200 KB that differs per call: larger than HTTP/2's initial 64 KiB window and many TLS records.</summary>
    private static string Filler(string id) => string.Concat(Enumerable.Repeat(id + ";", 200_000 / (id.Length + 1)));
}
