using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Gatekeeper.Client;
using Gatekeeper.FunctionalTests.Infrastructure;
using Gatekeeper.Protocol;
using Gatekeeper.V1;
using Grpc.Health.V1;

namespace Gatekeeper.FunctionalTests.Interop;

/// <summary>tests/interop/python/server.py (a grpcio C-core server) running for the tests of one class.</summary>
public sealed class PythonServerFixture : IAsyncLifetime
{
    private TempDirectory? _scratch;
    private PeerProcess? _process;
    private GatekeeperClient? _client;
    private Exception? _failure;

    /// <summary>The server's address.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>A Gatekeeper.Client of the grpcio server; throws why the server could not start.</summary>
    public GatekeeperClient Client => _client ?? throw new InvalidOperationException($"The grpcio server did not start: {_failure?.Message}", _failure);

    /// <summary>A new client with adjusted options (disposed by the caller).</summary>
    public GatekeeperClient CreateClient(Action<GatekeeperClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        _ = Client;
        var options = new GatekeeperClientOptions { Address = Address, DefaultDeadline = TimeSpan.FromSeconds(30) };
        configure(options);
        return new GatekeeperClient(options);
    }

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        try
        {
            InteropEnvironment.RequirePython();
            _scratch = new TempDirectory();
            _process = PeerProcess.Start(
                InteropEnvironment.Python,
                ["server.py", "--protos", InteropEnvironment.ProtosDirectory, "--scratch", _scratch.Path],
                InteropEnvironment.PythonDirectory);
            var line = await _process.ReadLineAsync(TimeSpan.FromSeconds(60));
            using var document = JsonDocument.Parse(line);
            var port = document.RootElement.GetProperty("port").GetInt32();
            Address = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}"));
            _client = new GatekeeperClient(new GatekeeperClientOptions { Address = Address, DefaultDeadline = TimeSpan.FromSeconds(30) });
        }
        catch (Exception ex)
        {
            _failure = ex;
        }
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        _client?.Dispose();
        if (_process is not null)
        {
            try
            {
                _process.CloseStandardInput();
                await _process.WaitForExitAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception ex) when (ex is TimeoutException or IOException or InvalidOperationException)
            {
                // Dispose kills it.
            }

            _process.Dispose();
        }

        _scratch?.Dispose();
    }
}

/// <summary>
/// Gatekeeper.Client against a gRPC server nobody here wrote (grpcio 1.51, C-core): proves the client side of
/// the home-made protocol, including Trailers-Only errors, percent-decoding, gzip responses and deadlines.
/// </summary>
public sealed class PythonServerInteropTests(PythonServerFixture fixture) : IClassFixture<PythonServerFixture>
{
    private static readonly byte[] BinaryValue = [0x00, 0x01, 0x02, 0x7F, 0x80, 0xFE, 0xFF];

    private static DecideRequest Request(string category, string requestId = "") =>
        new() { Category = category, Recipient = "gp_surgery", Purpose = "social_care", RequestId = requestId };

    [Fact]
    public async Task Decide_GrpcioServer_ResponseParsed()
    {
        // Act
        var response = await fixture.Client.DecideAsync(Request("health_disability", "dotnet-1"));

        // Assert
        Assert.Equal(Decision.Allow, response.Decision);
        Assert.Equal("grpcio_decide", response.RuleId);
        Assert.Equal("dotnet-1", response.RequestId);
        Assert.Equal("health_disability/gp_surgery/social_care", response.Reason);
        Assert.StartsWith("grpcio-", response.DecisionId, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DecideBatch_GrpcioServer_AnswersInOrder()
    {
        // Arrange
        var batch = new DecideBatchRequest();
        batch.Requests.Add(Enumerable.Range(0, 5).Select(i => Request("health_disability", $"r{i}")));

        // Act
        var response = await fixture.Client.DecideBatchAsync(batch);

        // Assert
        Assert.Equal(["grpcio_batch_0", "grpcio_batch_1", "grpcio_batch_2", "grpcio_batch_3", "grpcio_batch_4"], response.Responses.Select(r => r.RuleId));
        Assert.Equal(["r0", "r1", "r2", "r3", "r4"], response.Responses.Select(r => r.RequestId));
    }

    [Fact]
    public async Task Decide_ManyConcurrentCalls_AllAnswered()
    {
        // Act
        var responses = await Task.WhenAll(Enumerable.Range(0, 32).Select(i => fixture.Client.DecideAsync(Request("health_disability", $"p{i}"))));

        // Assert
        Assert.Equal(Enumerable.Range(0, 32).Select(i => $"p{i}"), responses.Select(r => r.RequestId));
    }

    [Fact]
    public async Task CheckHealth_GrpcioServer_Serving()
    {
        // Act
        var response = await fixture.Client.CheckHealthAsync();

        // Assert
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
    }

    [Fact]
    public async Task CheckHealth_UnknownService_NotFoundFromTrailersOnlyResponse()
    {
        // Act
        var ex = await Assert.ThrowsAsync<RpcException>(() => fixture.Client.CheckHealthAsync("no.such.Service"));

        // Assert
        Assert.Equal(StatusCode.NotFound, ex.StatusCode);
        Assert.Equal("unknown service no.such.Service", ex.Detail);
    }

    [Fact]
    public async Task WatchHealth_GrpcioServer_FirstMessageServing()
    {
        // Arrange
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        HealthCheckResponse? first = null;

        // Act
        await foreach (var message in fixture.Client.WatchHealthAsync(cancellationToken: cts.Token))
        {
            first = message;
            break;
        }

        // Assert
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, first?.Status);
    }

    [Fact]
    public async Task Decide_ServerFailsWithNonAsciiMessage_DetailPercentDecoded()
    {
        // Act
        var ex = await Assert.ThrowsAsync<RpcException>(() => fixture.Client.DecideAsync(Request("fail_unicode")));

        // Assert
        Assert.Equal(StatusCode.FailedPrecondition, ex.StatusCode);
        Assert.Equal(TestingMethods.FailDetail, ex.Detail);
    }

    [Fact]
    public async Task Decide_ServerRejects_InvalidArgumentWithItsMessage()
    {
        // Act
        var ex = await Assert.ThrowsAsync<RpcException>(() => fixture.Client.DecideAsync(Request("invalid")));

        // Assert
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal("category: rejected by the grpcio server.", ex.Detail);
    }

    [Fact]
    public async Task Decide_DeadlinePassesOnSlowServer_DeadlineExceeded()
    {
        // Arrange
        var clock = Stopwatch.StartNew();

        // Act
        var ex = await Assert.ThrowsAsync<RpcException>(() => fixture.Client.DecideAsync(Request("slow"), new CallOptions { Timeout = TimeSpan.FromMilliseconds(300) }));

        // Assert
        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"The call took {clock.Elapsed} for a 300 ms deadline.");
    }

    [Fact]
    public async Task Decide_WithDeadline_GrpcioServerSeesGrpcTimeout()
    {
        // Act
        var response = await fixture.Client.DecideAsync(Request("health_disability"), new CallOptions { Timeout = TimeSpan.FromSeconds(20) });

        // Assert
        var deadline = Assert.Single(response.Explanation, e => e.StartsWith("deadline=", StringComparison.Ordinal));
        var remaining = double.Parse(deadline["deadline=".Length..], CultureInfo.InvariantCulture);
        Assert.InRange(remaining, 1, 20);
    }

    [Fact]
    public async Task Decide_TextAndBinaryMetadata_GrpcioServerReceivesAndAnswersThem()
    {
        // Arrange
        var headers = new Metadata { { "x-custom", "from dotnet" }, { "x-blob-bin", BinaryValue } };

        // Act
        var result = await fixture.Client.UnaryCallAsync(GatekeeperMethods.Decide, Request("health_disability"), DecideResponse.Parser, new CallOptions { Headers = headers });

        // Assert
        Assert.Contains("x-custom=from dotnet", result.Response.Explanation);
        Assert.Contains("x-blob-bin=0001027f80feff", result.Response.Explanation);
        Assert.Equal("grpcio", result.ResponseHeaders.GetValue("x-server"));
        Assert.Equal("from dotnet", result.ResponseHeaders.GetValue("x-echo-custom"));
        Assert.Equal("grpcio-trailer", result.Trailers.GetValue("x-trailer"));
        Assert.Equal(new byte[] { 0x00, 0xFF, 0x10 }, result.Trailers.GetValueBytes("x-trailer-bin"));
    }

    [Fact]
    public async Task Decide_GzipRequest_AcceptedByGrpcio()
    {
        // Arrange
        using var client = fixture.CreateClient(o => o.CompressRequests = true);

        // Act
        var response = await client.DecideAsync(Request("health_disability", new string('g', 100)));

        // Assert
        Assert.Equal(new string('g', 100), response.RequestId);
    }

    [Fact]
    public async Task Decide_GzipResponse_Decompressed()
    {
        // Act
        var result = await fixture.Client.UnaryCallAsync(GatekeeperMethods.Decide, Request("gzip_reply", "zipped"), DecideResponse.Parser);

        // Assert
        Assert.Equal("gzip", result.ResponseHeaders.GetValue("grpc-encoding"));
        Assert.Equal("zipped", result.Response.RequestId);
    }

    [Fact]
    public async Task Call_UnknownMethodOnGrpcio_Unimplemented()
    {
        // Act
        var ex = await Assert.ThrowsAsync<RpcException>(() => fixture.Client.UnaryCallAsync("/gatekeeper.v1.Gatekeeper/NoSuchMethod", new DecideRequest(), DecideResponse.Parser));

        // Assert
        Assert.Equal(StatusCode.Unimplemented, ex.StatusCode);
    }
}
