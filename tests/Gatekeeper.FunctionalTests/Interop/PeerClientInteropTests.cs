using Gatekeeper.FunctionalTests.Infrastructure;

namespace Gatekeeper.FunctionalTests.Interop;

/// <summary>
/// What a real gRPC client library saw when it called the gatekeeper. The peers print the same cases with
/// the same names (status codes as names such as "UNIMPLEMENTED", enums as their proto names, binary
/// metadata as hex), so one set of tests judges both.
/// </summary>
public abstract class PeerClientInteropTests
{
    private readonly PeerRun _run;
    private readonly string _idPrefix;
    private readonly string _customValue;

    private protected PeerClientInteropTests(PeerRun run, string idPrefix, string customValue)
    {
        _run = run;
        _idPrefix = idPrefix;
        _customValue = customValue;
    }

    [Fact]
    public void Decide_WellFormedRequest_AnsweredWithDecisionAndEchoedRequestId()
    {
        var decision = _run.Field("decide", "decision");

        Assert.Equal("OK", _run.Field("decide", "code"));
        Assert.StartsWith("DECISION_", decision, StringComparison.Ordinal);
        Assert.NotEqual("DECISION_UNSPECIFIED", decision);
        Assert.Equal(_idPrefix + "1", _run.Field("decide", "request_id"));
        Assert.NotEmpty(_run.Field("decide", "decision_id"));
        Assert.NotEmpty(_run.Field("decide", "policy_version"));
    }

    [Fact]
    public void Decide_MalformedCategory_InvalidArgumentNamingTheField()
    {
        Assert.Equal("INVALID_ARGUMENT", _run.Field("decide_invalid", "code"));
        Assert.StartsWith("category:", _run.Field("decide_invalid", "details"), StringComparison.Ordinal);
    }

    [Fact]
    public void DecideBatch_ThreeRequests_AnsweredInOrder()
    {
        Assert.Equal("OK", _run.Field("batch", "code"));
        var responses = _run.Case("batch").GetProperty("responses").EnumerateArray().ToList();

        Assert.Equal(3, responses.Count);
        for (var i = 0; i < responses.Count; i++)
        {
            Assert.Equal($"{_idPrefix}b{i}", responses[i].GetProperty("request_id").GetString());
            Assert.NotEqual("DECISION_UNSPECIFIED", responses[i].GetProperty("decision").GetString());
        }

        Assert.Equal(3, responses.Select(r => r.GetProperty("decision_id").GetString()).Distinct().Count());
    }

    [Fact]
    public void HealthCheck_Server_Serving()
    {
        Assert.Equal("OK", _run.Field("health_check", "code"));
        Assert.Equal("SERVING", _run.Field("health_check", "status"));
    }

    [Fact]
    public void HealthCheck_UnknownService_NotFound() =>
        Assert.Equal("NOT_FOUND", _run.Field("health_check_unknown", "code"));

    [Fact]
    public void HealthWatch_DecisionService_FirstMessageServing()
    {
        Assert.Equal("OK", _run.Field("health_watch", "code"));
        Assert.Equal("SERVING", _run.Field("health_watch", "status"));
    }

    [Fact]
    public void HealthWatch_GzipCompressedRequest_FirstMessageServing()
    {
        Assert.Equal("OK", _run.Field("health_watch_gzip", "code"));
        Assert.Equal("SERVING", _run.Field("health_watch_gzip", "status"));
    }

    [Fact]
    public void Decide_FiveMebibyteMessage_ResourceExhausted() =>
        Assert.Equal("RESOURCE_EXHAUSTED", _run.Field("over_limit", "code"));

    [Fact]
    public void Decide_FiftyConcurrentCalls_AllAnsweredWithTheirOwnRequestId()
    {
        Assert.Equal("OK", _run.Field("concurrent", "code"));
        var ids = _run.Case("concurrent").GetProperty("request_ids").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"{_idPrefix}c{i}"), ids);
    }

    [Theory]
    [InlineData("unknown_method")]
    [InlineData("unknown_service")]
    public void Call_UnknownPath_Unimplemented(string kase) =>
        Assert.Equal("UNIMPLEMENTED", _run.Field(kase, "code"));

    [Fact]
    public void Decide_GzipCompressedRequest_Answered()
    {
        Assert.Equal("OK", _run.Field("gzip", "code"));
        Assert.Equal(_idPrefix + "gzip", _run.Field("gzip", "request_id"));
    }

    [Fact]
    public void Wait_OneMillisecondDeadline_DeadlineExceeded() =>
        Assert.Equal("DEADLINE_EXCEEDED", _run.Field("deadline", "code"));

    [Fact]
    public void Wait_TwoHundredOneMillisecondDeadlines_AllDeadlineExceededWithoutServerErrors()
    {
        var codes = _run.Case("deadline_storm").GetProperty("codes");
        var handlerFailures = _run.ServerErrors.Where(r => r.Message.Contains(TestingMethods.Wait, StringComparison.Ordinal)).ToList();

        Assert.Equal("{\"DEADLINE_EXCEEDED\":200}", codes.ToString().Replace(" ", string.Empty, StringComparison.Ordinal));
        Assert.True(
            handlerFailures.Count == 0,
            $"A caller that gives up must not be logged as a handler failure ({handlerFailures.Count} were):{Environment.NewLine}{string.Join(Environment.NewLine, handlerFailures.Take(3))}");
    }

    [Fact]
    public void Echo_TextAndBinaryMetadata_RoundTripInHeadersAndTrailers()
    {
        var echo = _run.Case("metadata");
        var headers = echo.GetProperty("headers");
        var trailers = echo.GetProperty("trailers");
        var body = echo.GetProperty("body").EnumerateArray().Select(e => e.GetString()).ToList();

        Assert.Equal("OK", _run.Field("metadata", "code"));
        Assert.Equal(_customValue, headers.GetProperty("echo-x-custom").GetString());
        Assert.Equal("0001027f80feff", headers.GetProperty("echo-x-blob-bin").GetString());
        Assert.Equal(_customValue, trailers.GetProperty("echo-trailer-x-custom").GetString());
        Assert.Equal("0001027f80feff", trailers.GetProperty("echo-trailer-x-blob-bin").GetString());
        Assert.Contains("x-blob-bin=0001027f80feff", body);
        Assert.Contains($"x-custom={_customValue}", body);
    }

    [Fact]
    public void Throw_HandlerException_UnknownWithoutInternals()
    {
        Assert.Equal("UNKNOWN", _run.Field("throw", "code"));
        Assert.DoesNotContain("hunter2", _run.Field("throw", "details"), StringComparison.Ordinal);
    }

    [Fact]
    public void Fail_NonAsciiStatusMessage_PeerDecodesItExactly()
    {
        Assert.Equal("FAILED_PRECONDITION", _run.Field("fail_unicode", "code"));
        Assert.Equal(TestingMethods.FailDetail, _run.Field("fail_unicode", "details"));
    }

    [Fact]
    public void Server_AfterAllCases_StillAnswersAndLoggedOnlyTheProvokedError()
    {
        Assert.Equal("OK", _run.Field("after", "code"));
        var unexpected = _run.ServerErrors.Where(r => !IsProvokedThrow(r)).ToList();
        Assert.True(unexpected.Count == 0, "Unexpected server errors:" + Environment.NewLine + string.Join(Environment.NewLine, unexpected));
        Assert.Single(_run.ServerErrors, IsProvokedThrow);
    }

    private static bool IsProvokedThrow(LogRecord record) =>
        record.EventId.Name == "HandlerFailed" && record.Exception?.Message == TestingMethods.SecretDetail;
}

/// <summary>Python grpcio 1.51 (gRPC C-core) as the client.</summary>
public sealed class PythonClientInteropTests(PythonClientFixture fixture)
    : PeerClientInteropTests(fixture.Run, "py-", "hello from grpcio"), IClassFixture<PythonClientFixture>;

/// <summary>Node @grpc/grpc-js as the client.</summary>
public sealed class NodeClientInteropTests(NodeClientFixture fixture)
    : PeerClientInteropTests(fixture.Run, "node-", "hello from grpc-js"), IClassFixture<NodeClientFixture>;
