using static Gatekeeper.FunctionalTests.Security.RawHttp2Connection;

namespace Gatekeeper.FunctionalTests.Security;

/// <summary>Slow-client protection: a caller that trickles its request body is cut off instead of holding a stream forever.</summary>
public sealed class SlowClientTests
{
    [Fact]
    public async Task Decide_BodyTrickledBelowMinimumDataRate_CallEndedByTheServer()
    {
        await using var server = await SecureServer.StartAsync(
            "callers:\n  anonymous-loopback:\n    categories: '*'\n    purposes: '*'\n",
            "--Gatekeeper:Limits:MinRequestBodyDataRate=200");
        using var connection = await OpenAsync(server.Address.Port, CancellationToken.None);
        var headers = HeaderBlock([(":method", "POST"), (":scheme", "http"), (":path", "/gatekeeper.v1.Gatekeeper/Decide"), (":authority", "127.0.0.1"), ("content-type", "application/grpc"), ("te", "trailers")]);
        await connection.SendAsync(Frame(Headers, EndHeaders, 1, headers), CancellationToken.None);
        // A 5-byte prefix announcing 1,000 bytes, then one byte every 250 ms: 4 bytes/s against a minimum of 200
        // after Kestrel's 5 s grace period. Without the limit the server would wait for the rest indefinitely.
        await connection.SendAsync(Frame(Data, 0, 1, [0, 0, 0, 0x03, 0xE8]), CancellationToken.None);
        using var trickle = new CancellationTokenSource();
        var sender = Task.Run(async () =>
        {
            try
            {
                for (var i = 0; i < 80 && !trickle.IsCancellationRequested; i++)
                {
                    await Task.Delay(250, trickle.Token);
                    await connection.SendAsync(Frame(Data, 0, 1, [0x0A]), trickle.Token);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException)
            {
                // Cut off by the server, or stopped by the test.
            }
        });

        var started = DateTime.UtcNow;
        var outcome = await connection.ReadOutcomeAsync(1, TimeSpan.FromSeconds(15));
        var elapsed = DateTime.UtcNow - started;
        await trickle.CancelAsync();
        await sender;

        Assert.NotEqual("hang", outcome.Kind);
        Assert.InRange(elapsed, TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(14));
    }
}
