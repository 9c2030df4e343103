using System.Diagnostics;
using Gatekeeper.Client;
using Gatekeeper.FunctionalTests.Infrastructure;
using Gatekeeper.Protocol;
using Gatekeeper.V1;

namespace Gatekeeper.FunctionalTests;

/// <summary>The gRPC transport end to end through Gatekeeper.Client: routing, deadlines, compression, metadata, errors.</summary>
public sealed class TransportTests : IClassFixture<GatekeeperServerFixture>, IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private static readonly byte[] BinaryValue = [0x00, 0x01, 0x02, 0x7F, 0x80, 0xFE, 0xFF];
    private readonly GatekeeperServer _server;
    private readonly GatekeeperClient _client;
    private readonly VerifyNoErrorsScope _errors;

    public TransportTests(GatekeeperServerFixture fixture)
    {
        _server = fixture.Server;
        _client = fixture.Client;
        _errors = fixture.Server.Logs.VerifyNoErrors();
    }

    public void Dispose() => _errors.Dispose();

    [Theory]
    [InlineData("/gatekeeper.v1.Gatekeeper/NoSuchMethod", "NoSuchMethod")]
    [InlineData("/no.such.v1.Service/Call", "no.such.v1.Service")]
    public async Task Call_UnknownMethodOrService_UnimplementedNamingIt(string path, string named)
    {
        // Act
        var ex = await Assert.ThrowsAsync<RpcException>(() => _client.UnaryCallAsync(path, new DecideRequest(), DecideResponse.Parser));

        // Assert
        Assert.Equal(StatusCode.Unimplemented, ex.StatusCode);
        Assert.Contains(named, ex.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Call_DeadlinePassesWhileHandlerWaits_DeadlineExceededAndHandlerCancelled()
    {
        // Arrange
        var wait = _server.Testing.WaitCall("deadline_client");
        var options = new CallOptions { Timeout = TimeSpan.FromMilliseconds(200) };
        var clock = Stopwatch.StartNew();

        // Act
        var ex = await Assert.ThrowsAsync<RpcException>(() => _client.UnaryCallAsync(TestingMethods.Wait, new DecideRequest { RequestId = "deadline_client" }, DecideResponse.Parser, options));
        var elapsed = clock.Elapsed;

        // Assert
        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
        Assert.True(elapsed < TimeSpan.FromSeconds(5), $"The call took {elapsed} for a 200 ms deadline.");
        var deadline = await wait.Started.Task.WaitAsync(Bound);
        Assert.NotNull(deadline);
        await wait.Cancelled.Task.WaitAsync(Bound);
    }

    [Fact]
    public async Task Call_CallerCancels_CancelledAndHandlerCancelled()
    {
        // Arrange
        var wait = _server.Testing.WaitCall("cancel_client");
        using var cts = new CancellationTokenSource();
        var call = _client.UnaryCallAsync(TestingMethods.Wait, new DecideRequest { RequestId = "cancel_client" }, DecideResponse.Parser, cancellationToken: cts.Token);
        await wait.Started.Task.WaitAsync(Bound);

        // Act
        await cts.CancelAsync();
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.WaitAsync(Bound));

        // Assert
        Assert.Equal(StatusCode.Cancelled, ex.StatusCode);
        await wait.Cancelled.Task.WaitAsync(Bound);
    }

    [Fact]
    public async Task Call_GzipRequest_ServerSeesGzipAndAnswersGzip()
    {
        // Arrange
        using var gzipClient = _server.CreateClient(o => o.CompressRequests = true);

        // Act
        var result = await gzipClient.UnaryCallAsync(TestingMethods.Echo, new DecideRequest { RequestId = new string('z', 100) }, DecideResponse.Parser);
        var decided = await gzipClient.DecideAsync(DecideTests.Allowed("gzip_decide"));

        // Assert
        Assert.Contains("grpc-encoding=gzip", result.Response.Explanation);
        Assert.Equal("gzip", result.ResponseHeaders.GetValue("grpc-encoding"));
        Assert.Equal(new string('z', 100), result.Response.RequestId);
        Assert.Equal("gzip_decide", decided.RequestId);
    }

    [Fact]
    public async Task Call_UncompressedRequest_AnsweredUncompressed()
    {
        // Act
        var result = await _client.UnaryCallAsync(TestingMethods.Echo, new DecideRequest(), DecideResponse.Parser);

        // Assert
        Assert.Contains("grpc-encoding=none", result.Response.Explanation);
        Assert.Null(result.ResponseHeaders.GetValue("grpc-encoding"));
    }

    [Fact]
    public async Task Call_TextAndBinaryMetadata_EchoedInHeadersAndTrailers()
    {
        // Arrange
        var headers = new Metadata { { "x-custom", "hello, gatekeeper" }, { "x-blob-bin", BinaryValue } };

        // Act
        var result = await _client.UnaryCallAsync(TestingMethods.Echo, new DecideRequest(), DecideResponse.Parser, new CallOptions { Headers = headers });

        // Assert
        Assert.Contains("x-custom=hello, gatekeeper", result.Response.Explanation);
        Assert.Contains("x-blob-bin=0001027f80feff", result.Response.Explanation);
        Assert.Equal("hello, gatekeeper", result.ResponseHeaders.GetValue("echo-x-custom"));
        Assert.Equal(BinaryValue, result.ResponseHeaders.GetValueBytes("echo-x-blob-bin"));
        Assert.Equal("hello, gatekeeper", result.Trailers.GetValue("echo-trailer-x-custom"));
        Assert.Equal(BinaryValue, result.Trailers.GetValueBytes("echo-trailer-x-blob-bin"));
        Assert.Equal("0", result.Trailers.GetValue("grpc-status"));
    }

    [Fact]
    public async Task Call_DeadlineSet_ServerSeesGrpcTimeout()
    {
        // Act
        var result = await _client.UnaryCallAsync(TestingMethods.Echo, new DecideRequest(), DecideResponse.Parser, new CallOptions { Timeout = TimeSpan.FromSeconds(20) });

        // Assert
        Assert.Contains("deadline=set", result.Response.Explanation);
    }

    [Fact]
    public async Task Call_DeadlineOfHundredDays_Answered()
    {
        // Act
        var result = await _client.UnaryCallAsync(TestingMethods.Echo, new DecideRequest { RequestId = "long" }, DecideResponse.Parser, new CallOptions { Timeout = TimeSpan.FromDays(100) });

        // Assert
        Assert.Equal("long", result.Response.RequestId);
    }

    [Fact]
    public async Task Call_HandlerThrows_UnknownWithoutInternals()
    {
        // Arrange
        _errors.ExpectError("HandlerFailed");

        // Act
        var ex = await Assert.ThrowsAsync<RpcException>(() => _client.UnaryCallAsync(TestingMethods.Throw, new DecideRequest(), DecideResponse.Parser));

        // Assert
        Assert.Equal(StatusCode.Unknown, ex.StatusCode);
        Assert.DoesNotContain("hunter2", ex.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(nameof(InvalidOperationException), ex.Detail, StringComparison.Ordinal);
        Assert.Contains(_server.Logs.Records, r => r.EventId.Name == "HandlerFailed" && r.Exception?.Message == TestingMethods.SecretDetail);
    }

    [Fact]
    public async Task Call_HandlerFailsWithNonAsciiDetail_ClientDecodesItExactly()
    {
        // Act
        var ex = await Assert.ThrowsAsync<RpcException>(() => _client.UnaryCallAsync(TestingMethods.Fail, new DecideRequest(), DecideResponse.Parser));

        // Assert
        Assert.Equal(StatusCode.FailedPrecondition, ex.StatusCode);
        Assert.Equal(TestingMethods.FailDetail, ex.Detail);
    }
}
