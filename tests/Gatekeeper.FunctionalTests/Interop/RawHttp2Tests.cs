using System.Text.Json;
using Gatekeeper.FunctionalTests.Infrastructure;
using Gatekeeper.V1;

namespace Gatekeeper.FunctionalTests.Interop;

/// <summary>A gatekeeper server and one run of tests/interop/python/raw_h2.py (hand-made HTTP/2 frames) against it.</summary>
public sealed class RawHttp2Fixture : IAsyncLifetime
{
    private GatekeeperServer? _server;

    /// <summary>The server (still running after the run, so tests can check it survived).</summary>
    public GatekeeperServer Server => _server ?? throw new InvalidOperationException("The fixture has not started.");

    /// <summary>What came back for each malformed request.</summary>
    public PeerRun Run { get; private set; } = null!;

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        _server = await GatekeeperServer.StartAsync();
        Run = await PeerRun.RunAsync(
            _server,
            InteropEnvironment.RequirePython,
            InteropEnvironment.Python,
            ["raw_h2.py", "--host", _server.Address.Host, "--port", _server.Address.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            InteropEnvironment.PythonDirectory,
            TimeSpan.FromSeconds(90));
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

/// <summary>
/// Requests no well-behaved client sends, built frame by frame with python3-h2: each must get the status the
/// gRPC spec (and grpc-dotnet) gives it, and the server must stay up and quiet in its error log.
/// </summary>
public sealed class RawHttp2Tests(RawHttp2Fixture fixture) : IClassFixture<RawHttp2Fixture>
{
    private readonly PeerRun _run = fixture.Run;

    private int? GrpcStatus(string kase) => Number(_run.Case(kase), "grpc_status");

    private int? HttpStatus(string kase) => Number(_run.Case(kase), "http_status");

    private static int? Number(JsonElement element, string field) =>
        element.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt32() : null;

    private static string? Header(JsonElement element, string section, string name) =>
        element.GetProperty(section).TryGetProperty(name, out var value) ? value.GetString() : null;

    private DecideResponse Message(string kase)
    {
        var bytes = Convert.FromHexString(_run.Field(kase, "data_hex"));
        Assert.True(bytes.Length >= 5 && bytes[0] == 0, $"Case '{kase}' should carry one uncompressed message: {_run.Case(kase)}");
        return DecideResponse.Parser.ParseFrom(bytes.AsSpan(5));
    }

    private void AssertEndedPromptly(string kase)
    {
        var element = _run.Case(kase);
        Assert.False(element.TryGetProperty("timed_out", out _), $"No answer within 5 s: {element}");
    }

    [Fact]
    public void ValidRequest_Ok_StatusInTrailersAfterOneMessage()
    {
        var ok = _run.Case("ok");

        Assert.Equal(200, HttpStatus("ok"));
        Assert.Equal("application/grpc", Header(ok, "headers", "content-type"));
        Assert.Equal("0", Header(ok, "trailers", "grpc-status"));
        Assert.False(ok.GetProperty("trailers_only").GetBoolean());
        Assert.Equal("raw-h2", Message("ok").RequestId);
    }

    [Fact]
    public void BinaryMetadata_PaddedAndUnpaddedBase64_BothDecoded()
    {
        var explanation = Message("binary_metadata").Explanation;

        Assert.Equal(0, GrpcStatus("binary_metadata"));
        Assert.Contains("x-padded-bin=0001027f80feff", explanation);
        Assert.Contains("x-unpadded-bin=0001027f80feff", explanation);
        Assert.Contains("x-text=plain value", explanation);
    }

    [Theory]
    [InlineData("bad_timeout")]
    [InlineData("long_timeout")]
    [InlineData("huge_timeout")]
    public void UnusableGrpcTimeout_CallRunsWithoutDeadline(string kase)
    {
        Assert.Equal(0, GrpcStatus(kase));
        Assert.Equal("raw-h2", Message(kase).RequestId);
    }

    [Theory]
    [InlineData("content_type")]
    [InlineData("no_content_type")]
    public void WrongContentType_Http415(string kase)
    {
        Assert.Equal(415, HttpStatus(kase));
        Assert.NotEqual(0, GrpcStatus(kase));
    }

    [Fact]
    public void GetInsteadOfPost_RefusedWithoutRunningTheMethod()
    {
        Assert.Equal(405, HttpStatus("get"));
        Assert.NotEqual(0, GrpcStatus("get"));
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("truncated_prefix")]
    public void TruncatedMessage_Internal(string kase)
    {
        Assert.Equal(13, GrpcStatus(kase));
        Assert.True(_run.Case(kase).GetProperty("trailers_only").GetBoolean(), "An error before any message is a Trailers-Only response.");
    }

    [Fact]
    public void OversizedLengthPrefix_ResourceExhaustedBeforeTheBodyIsSent()
    {
        AssertEndedPromptly("oversized");
        Assert.Equal(8, GrpcStatus("oversized"));
        Assert.True(_run.Case("oversized").GetProperty("trailers_only").GetBoolean());
    }

    [Fact]
    public void CompressedFlagWithoutEncoding_Internal() => Assert.Equal(13, GrpcStatus("compressed_no_encoding"));

    [Fact]
    public void UnknownEncoding_UnimplementedListingAcceptedEncodings()
    {
        var element = _run.Case("unknown_encoding");

        Assert.Equal(12, GrpcStatus("unknown_encoding"));
        Assert.Contains("gzip", Header(element, "headers", "grpc-accept-encoding") ?? string.Empty, StringComparison.Ordinal);
    }

    [Fact]
    public void UndefinedCompressedFlag_Internal() => Assert.Equal(13, GrpcStatus("bad_flag"));

    [Theory]
    [InlineData("two_messages")]
    [InlineData("two_messages_two_frames")]
    [InlineData("zero_messages")]
    public void UnaryWithOtherThanOneMessage_Unimplemented(string kase) => Assert.Equal(12, GrpcStatus(kase));

    [Theory]
    [InlineData("garbage")]
    [InlineData("bad_gzip")]
    public void UnparseableMessage_Internal(string kase) => Assert.Equal(13, GrpcStatus(kase));

    [Fact]
    public void GzipRequest_AnsweredWithGzipMessage()
    {
        var element = _run.Case("gzip");

        Assert.Equal(0, GrpcStatus("gzip"));
        Assert.Equal("gzip", Header(element, "headers", "grpc-encoding"));
        Assert.StartsWith("01", element.GetProperty("data_hex").GetString(), StringComparison.Ordinal);
        Assert.True(Number(element, "inflated_length") > 0);
    }

    [Fact]
    public void UnknownMethod_UnimplementedAsTrailersOnly()
    {
        Assert.Equal(12, GrpcStatus("unknown_method"));
        Assert.True(_run.Case("unknown_method").GetProperty("trailers_only").GetBoolean());
    }

    [Fact]
    public void GrpcTimeout_HandlerStillWaiting_DeadlineExceededFromTheServer()
    {
        AssertEndedPromptly("timeout");
        Assert.Equal(4, GrpcStatus("timeout"));
        Assert.True(Number(_run.Case("timeout"), "elapsed_ms") < 3000);
    }

    [Fact]
    public void NonAsciiStatusMessage_PercentEncodedExactly()
    {
        Assert.Equal(9, GrpcStatus("percent"));
        Assert.Equal(TestingMethods.FailDetailPercentEncoded, _run.Field("percent", "grpc_message"));
    }

    [Fact]
    public void StreamResetMidMessage_ServerCarriesOn() => Assert.Equal(0, GrpcStatus("reset_mid_body"));

    [Fact]
    public async Task Server_AfterAllMalformedRequests_StillServingAndNoErrorsLogged()
    {
        Assert.Equal(0, GrpcStatus("after"));
        using var client = fixture.Server.CreateClient();
        var health = await client.CheckHealthAsync();
        Assert.Equal(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
        Assert.True(_run.ServerErrors.Count == 0, "Malformed requests must not log errors:" + Environment.NewLine + string.Join(Environment.NewLine, _run.ServerErrors));
    }
}
