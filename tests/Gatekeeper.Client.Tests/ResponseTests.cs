using System.Net;
using Gatekeeper.Client.Tests.Infrastructure;
using Gatekeeper.Protocol;
using Gatekeeper.V1;

namespace Gatekeeper.Client.Tests;

public sealed class ResponseTests
{
    private static readonly DecideRequest Request = new() { Category = "health", Recipient = "gp_practice", Purpose = "direct_care" };
    private static readonly DecideResponse Answer = new() { Decision = Decision.AllowWithConditions, RuleId = "r7", PolicyVersion = "2026.11", Obligations = { "log_access" } };

    private static async Task<RpcException> CallFailsAsync(HttpResponseMessage response, Action<GatekeeperClientOptions>? configure = null)
    {
        using var client = TestClient.Create(new FakeHandler(() => response), configure);
        return await Assert.ThrowsAsync<RpcException>(() => client.DecideAsync(Request));
    }

    [Fact]
    public async Task DecideAsync_OkWithTrailers_ReturnsMessage()
    {
        using var client = TestClient.Create(new FakeHandler(() => TestClient.Ok(Wire.Frame(Answer))));

        var response = await client.DecideAsync(Request);

        Assert.Equal(Answer, response);
    }

    [Fact]
    public async Task DecideAsync_ContentTypeGrpcProto_IsAccepted()
    {
        var response = TestClient.Response(new ByteArrayContent(Wire.Frame(Answer)), contentType: "application/grpc+proto", trailers: [("grpc-status", "0")]);
        using var client = TestClient.Create(new FakeHandler(() => response));

        Assert.Equal(Answer, await client.DecideAsync(Request));
    }

    [Fact]
    public async Task UnaryCallAsync_Ok_ExposesHeadersAndTrailers()
    {
        var response = TestClient.Ok(
            Wire.Frame(Answer),
            headers: [("x-served-by", "node-1"), ("id-bin", "AQI")],
            trailers: [("grpc-status", "0"), ("x-cost", "3"), ("sig-bin", "AQID")]);
        using var client = TestClient.Create(new FakeHandler(() => response));

        var result = await client.UnaryCallAsync(GatekeeperMethods.Decide, Request, DecideResponse.Parser);

        Assert.Equal(Answer, result.Response);
        Assert.Equal("node-1", result.ResponseHeaders.GetValue("x-served-by"));
        Assert.Equal(new byte[] { 1, 2 }, result.ResponseHeaders.GetValueBytes("id-bin"));
        Assert.Equal("3", result.Trailers.GetValue("x-cost"));
        Assert.Equal("0", result.Trailers.GetValue("grpc-status"));
        Assert.Equal(new byte[] { 1, 2, 3 }, result.Trailers.GetValueBytes("sig-bin"));
    }

    [Fact]
    public async Task DecideAsync_TrailersOnlyError_ThrowsStatusAndMessage()
    {
        var ex = await CallFailsAsync(TestClient.TrailersOnly(3, "category: must be 1-64 characters of [a-z0-9_]"));

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal("category: must be 1-64 characters of [a-z0-9_]", ex.Detail);
        Assert.Equal("3", ex.Trailers.GetValue("grpc-status"));
        Assert.Contains("InvalidArgument", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DecideAsync_PercentEncodedMessage_IsDecodedAsUtf8()
    {
        var ex = await CallFailsAsync(TestClient.TrailersOnly(5, "Empf%C3%A4nger %E2%80%9Cx%E2%80%9D unbekannt: 100%25"));

        Assert.Equal(StatusCode.NotFound, ex.StatusCode);
        Assert.Equal("Empfänger “x” unbekannt: 100%", ex.Detail);
    }

    [Fact]
    public async Task DecideAsync_ErrorInTrailersAfterMessage_ThrowsTrailerStatus()
    {
        var response = TestClient.Ok(Wire.Frame(Answer), trailers: [("grpc-status", "14"), ("grpc-message", "audit log unavailable")]);

        var ex = await CallFailsAsync(response);

        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        Assert.Equal("audit log unavailable", ex.Detail);
    }

    [Fact]
    public async Task DecideAsync_ErrorWithoutMessage_HasEmptyDetail()
    {
        var ex = await CallFailsAsync(TestClient.TrailersOnly(12));

        Assert.Equal(StatusCode.Unimplemented, ex.StatusCode);
        Assert.Equal(string.Empty, ex.Detail);
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest, StatusCode.Internal)]
    [InlineData(HttpStatusCode.Unauthorized, StatusCode.Unauthenticated)]
    [InlineData(HttpStatusCode.Forbidden, StatusCode.PermissionDenied)]
    [InlineData(HttpStatusCode.NotFound, StatusCode.Unimplemented)]
    [InlineData(HttpStatusCode.TooManyRequests, StatusCode.Unavailable)]
    [InlineData(HttpStatusCode.BadGateway, StatusCode.Unavailable)]
    [InlineData(HttpStatusCode.ServiceUnavailable, StatusCode.Unavailable)]
    [InlineData(HttpStatusCode.GatewayTimeout, StatusCode.Unavailable)]
    [InlineData(HttpStatusCode.InternalServerError, StatusCode.Unknown)]
    [InlineData(HttpStatusCode.UnsupportedMediaType, StatusCode.Unknown)]
    public async Task DecideAsync_HttpErrorWithoutGrpcStatus_MapsHttpStatus(HttpStatusCode httpStatus, StatusCode expected)
    {
        var ex = await CallFailsAsync(TestClient.Response(new StringContent("<html>nope</html>"), httpStatus, contentType: "text/html"));

        Assert.Equal(expected, ex.StatusCode);
        Assert.Contains($"HTTP {(int)httpStatus}", ex.Detail, StringComparison.Ordinal);
        Assert.Contains("grpc-status", ex.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DecideAsync_HttpErrorWithGrpcStatus_UsesGrpcStatus()
    {
        var ex = await CallFailsAsync(TestClient.TrailersOnly(8, "slow down", HttpStatusCode.TooManyRequests));

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Equal("slow down", ex.Detail);
    }

    [Theory]
    [InlineData("text/html")]
    [InlineData("application/json")]
    [InlineData("application/grpc-web")]
    public async Task DecideAsync_WrongContentType_ThrowsUnknownNamingIt(string contentType)
    {
        var ex = await CallFailsAsync(TestClient.Response(new ByteArrayContent(Wire.Frame(Answer)), contentType: contentType, trailers: [("grpc-status", "0")]));

        Assert.Equal(StatusCode.Unknown, ex.StatusCode);
        Assert.Contains(contentType, ex.Detail, StringComparison.Ordinal);
        Assert.Contains("application/grpc", ex.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DecideAsync_NoContentType_ThrowsUnknown()
    {
        var ex = await CallFailsAsync(TestClient.Response(new ByteArrayContent(Wire.Frame(Answer)), contentType: null, trailers: [("grpc-status", "0")]));

        Assert.Equal(StatusCode.Unknown, ex.StatusCode);
        Assert.Contains("(none)", ex.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DecideAsync_NoGrpcStatusInTrailers_ThrowsUnknown()
    {
        var ex = await CallFailsAsync(TestClient.Ok(Wire.Frame(Answer), trailers: []));

        Assert.Equal(StatusCode.Unknown, ex.StatusCode);
        Assert.Contains("grpc-status", ex.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("17")]
    [InlineData("-1")]
    [InlineData(" 0")]
    [InlineData("99999999999")]
    public async Task DecideAsync_InvalidGrpcStatus_ThrowsUnknown(string status)
    {
        var ex = await CallFailsAsync(TestClient.Ok(Wire.Frame(Answer), trailers: [("grpc-status", status)]));

        Assert.Equal(StatusCode.Unknown, ex.StatusCode);
        Assert.Contains(status, ex.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DecideAsync_TruncatedPrefix_ThrowsInternal()
    {
        var ex = await CallFailsAsync(TestClient.Ok([0, 0, 0]));

        Assert.Equal(StatusCode.Internal, ex.StatusCode);
        Assert.Contains("prefix", ex.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DecideAsync_TruncatedMessage_ThrowsInternal()
    {
        var frame = Wire.Frame(Answer);

        var ex = await CallFailsAsync(TestClient.Ok(frame[..^2]));

        Assert.Equal(StatusCode.Internal, ex.StatusCode);
        Assert.Contains($"{frame.Length - 7} of {frame.Length - 5} bytes", ex.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DecideAsync_OversizedPrefix_ThrowsResourceExhaustedWithoutReadingTheBody()
    {
        var body = new ScriptedStream(Wire.Concat(Wire.Prefix(0, 5 * 1024 * 1024), new byte[64 * 1024]));
        var ex = await CallFailsAsync(TestClient.Response(new StreamContent(body), trailers: [("grpc-status", "0")]));

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Contains("5242880", ex.Detail, StringComparison.Ordinal);
        Assert.Equal(5, body.BytesRead);
        Assert.True(body.Disposed);
    }

    [Fact]
    public async Task DecideAsync_MaxUIntPrefix_ThrowsResourceExhausted()
    {
        var ex = await CallFailsAsync(TestClient.Ok(Wire.Prefix(0, uint.MaxValue)));

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [Fact]
    public async Task DecideAsync_MessageAtConfiguredLimit_IsAccepted()
    {
        var frame = Wire.Frame(Answer);
        using var client = TestClient.Create(new FakeHandler(() => TestClient.Ok(frame)), o => o.MaxReceiveMessageSize = frame.Length - 5);

        Assert.Equal(Answer, await client.DecideAsync(Request));
    }

    [Fact]
    public async Task DecideAsync_MessageOverConfiguredLimit_ThrowsResourceExhausted()
    {
        var frame = Wire.Frame(Answer);

        var ex = await CallFailsAsync(TestClient.Ok(frame), o => o.MaxReceiveMessageSize = frame.Length - 6);

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [Fact]
    public async Task DecideAsync_GzipResponse_IsDecompressed()
    {
        var body = Wire.Frame(Wire.Gzip(Google.Protobuf.MessageExtensions.ToByteArray(Answer)), flag: 1);
        using var client = TestClient.Create(new FakeHandler(() => TestClient.Ok(body, headers: [("grpc-encoding", "gzip")])));

        Assert.Equal(Answer, await client.DecideAsync(Request));
    }

    [Fact]
    public async Task DecideAsync_UncompressedFrameWithGzipEncoding_IsAccepted()
    {
        // The flag, not the header, says whether a message is compressed.
        using var client = TestClient.Create(new FakeHandler(() => TestClient.Ok(Wire.Frame(Answer), headers: [("grpc-encoding", "gzip")])));

        Assert.Equal(Answer, await client.DecideAsync(Request));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("identity")]
    public async Task DecideAsync_CompressedFlagWithoutEncoding_ThrowsInternal(string? encoding)
    {
        var body = Wire.Frame(Wire.Gzip(Google.Protobuf.MessageExtensions.ToByteArray(Answer)), flag: 1);

        var ex = await CallFailsAsync(TestClient.Ok(body, headers: encoding is null ? [] : [("grpc-encoding", encoding)]));

        Assert.Equal(StatusCode.Internal, ex.StatusCode);
        Assert.Contains("grpc-encoding", ex.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DecideAsync_UnknownEncoding_ThrowsInternalNamingIt()
    {
        var body = Wire.Frame([1, 2, 3], flag: 1);

        var ex = await CallFailsAsync(TestClient.Ok(body, headers: [("grpc-encoding", "snappy")]));

        Assert.Equal(StatusCode.Internal, ex.StatusCode);
        Assert.Contains("snappy", ex.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DecideAsync_CorruptGzip_ThrowsInternal()
    {
        var ex = await CallFailsAsync(TestClient.Ok(Wire.Frame([1, 2, 3, 4, 5, 6, 7, 8], flag: 1), headers: [("grpc-encoding", "gzip")]));

        Assert.Equal(StatusCode.Internal, ex.StatusCode);
    }

    [Fact]
    public async Task DecideAsync_GzipBombOverLimit_ThrowsResourceExhausted()
    {
        var body = Wire.Frame(Wire.Gzip(new byte[2_000_000]), flag: 1);

        var ex = await CallFailsAsync(TestClient.Ok(body, headers: [("grpc-encoding", "gzip")]), o => o.MaxReceiveMessageSize = 1_000_000);

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Contains("decompressed", ex.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(0x80)]
    public async Task DecideAsync_InvalidCompressedFlag_ThrowsInternal(byte flag)
    {
        var ex = await CallFailsAsync(TestClient.Ok(Wire.Frame(Google.Protobuf.MessageExtensions.ToByteArray(Answer), flag)));

        Assert.Equal(StatusCode.Internal, ex.StatusCode);
    }

    [Fact]
    public async Task DecideAsync_TwoMessages_ThrowsInternal()
    {
        var ex = await CallFailsAsync(TestClient.Ok(Wire.Concat(Wire.Frame(Answer), Wire.Frame(Answer))));

        Assert.Equal(StatusCode.Internal, ex.StatusCode);
        Assert.Contains("more than one message", ex.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DecideAsync_NoMessageWithOk_ThrowsInternal()
    {
        var ex = await CallFailsAsync(TestClient.Ok([]));

        Assert.Equal(StatusCode.Internal, ex.StatusCode);
        Assert.Contains("no response message", ex.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DecideAsync_TrailersOnlyOk_ThrowsInternal()
    {
        var ex = await CallFailsAsync(TestClient.TrailersOnly(0));

        Assert.Equal(StatusCode.Internal, ex.StatusCode);
    }

    [Fact]
    public async Task DecideAsync_UnparseableMessage_ThrowsInternal()
    {
        var ex = await CallFailsAsync(TestClient.Ok(Wire.Frame([0xFF, 0xFF, 0xFF])));

        Assert.Equal(StatusCode.Internal, ex.StatusCode);
        Assert.Contains("deserialize", ex.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DecideAsync_ConnectionRefused_ThrowsUnavailable()
    {
        var handler = new FakeHandler((_, _) => throw new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused (gatekeeper.test:5000)"));
        using var client = TestClient.Create(handler);

        var ex = await Assert.ThrowsAsync<RpcException>(() => client.DecideAsync(Request));

        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        Assert.Contains("Connection refused", ex.Detail, StringComparison.Ordinal);
        Assert.Contains("/gatekeeper.v1.Gatekeeper/Decide", ex.Detail, StringComparison.Ordinal);
        Assert.IsType<HttpRequestException>(ex.InnerException);
    }

    [Theory]
    [InlineData(0x7, StatusCode.Unavailable)]
    [InlineData(0x8, StatusCode.Cancelled)]
    [InlineData(0xB, StatusCode.ResourceExhausted)]
    [InlineData(0xC, StatusCode.PermissionDenied)]
    [InlineData(0x2, StatusCode.Internal)]
    public async Task DecideAsync_StreamResetWhileReading_MapsHttp2ErrorCode(long errorCode, StatusCode expected)
    {
        var body = new ScriptedStream(Wire.Prefix(0, 10), failAtEnd: new HttpProtocolException(errorCode, "The HTTP/2 server reset the stream.", null));

        var ex = await CallFailsAsync(TestClient.Response(new StreamContent(body)));

        Assert.Equal(expected, ex.StatusCode);
    }

    [Fact]
    public async Task DecideAsync_ConnectionLostWhileReading_ThrowsUnavailable()
    {
        var body = new ScriptedStream(Wire.Prefix(0, 10), failAtEnd: new IOException("connection reset"));

        var ex = await CallFailsAsync(TestClient.Response(new StreamContent(body)));

        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        Assert.Contains("connection reset", ex.Detail, StringComparison.Ordinal);
        Assert.True(body.Disposed);
    }
}
