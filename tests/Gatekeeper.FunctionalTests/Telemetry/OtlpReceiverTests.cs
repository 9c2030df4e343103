using System.Net;
using System.Net.Http.Headers;
using Gatekeeper.FunctionalTests.Telemetry.Otlp;
using Gatekeeper.Protocol;
using Google.Protobuf;

namespace Gatekeeper.FunctionalTests.Telemetry;

/// <summary>
/// The test receiver answers as the OTLP and gRPC-over-HTTP/2 specifications say, checked with hand-built requests:
/// an exporter that is strict about responses must fail the exporter tests for its own faults, not the receiver's.
/// </summary>
public sealed class OtlpReceiverTests
{
    private static ExportTraceServiceRequest OneSpan(string name) => new()
    {
        ResourceSpans =
        {
            new ResourceSpans
            {
                Resource = new Resource(),
                ScopeSpans = { new ScopeSpans { Spans = { new Span { Name = name, TraceId = ByteString.CopyFrom(new byte[16]), SpanId = ByteString.CopyFrom(new byte[8]) } } } },
            },
        },
    };

    /// <summary>A gRPC length-prefixed message: compressed flag, four-byte big-endian length, the bytes.</summary>
    private static byte[] Frame(byte[] message, bool compressed)
    {
        var framed = new byte[GrpcProtocol.MessagePrefixLength + message.Length];
        MessageFraming.WritePrefix(framed, compressed, message.Length);
        message.CopyTo(framed, GrpcProtocol.MessagePrefixLength);
        return framed;
    }

    /// <summary>Sends one unary gRPC call over cleartext HTTP/2 (prior knowledge) and reads the whole response, trailers included.</summary>
    private static async Task<(HttpResponseMessage Response, byte[] Body)> CallGrpcAsync(OtlpReceiver receiver, byte[] framed, string? encoding = null)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(receiver.GrpcEndpoint, OtlpReceiver.TraceServicePath))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(framed),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        if (encoding is not null)
        {
            request.Headers.TryAddWithoutValidation("grpc-encoding", encoding);
        }

        var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();
        return (response, body);
    }

    private static string? Single(HttpHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;

    [Fact]
    public async Task Grpc_ExportCall_AnswersAnEmptyMessageAndOkStatusInTrailers()
    {
        // Arrange
        await using var receiver = await OtlpReceiver.StartAsync();

        // Act
        var (response, body) = await CallGrpcAsync(receiver, Frame(OneSpan("plain").ToByteArray(), compressed: false));
        using (response)
        {
            // Assert
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(new Version(2, 0), response.Version);
            Assert.Equal("application/grpc", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(new byte[5], body);
            Assert.Equal("0", Single(response.TrailingHeaders, "grpc-status"));
        }

        var export = Assert.Single(receiver.Exports);
        Assert.Equal((OtlpSignal.Traces, OtlpReceiver.Grpc, OtlpReceiver.TraceServicePath, false, true), (export.Signal, export.Protocol, export.Path, export.Compressed, export.Accepted));
        Assert.Equal("trailers", export.Header("te"));
        Assert.Equal("plain", Assert.Single(receiver.Spans).Name);
    }

    [Fact]
    public async Task Grpc_GzipCompressedMessage_IsDecodedAndRecordedAsCompressed()
    {
        // Arrange
        await using var receiver = await OtlpReceiver.StartAsync();

        // Act
        var (response, _) = await CallGrpcAsync(receiver, Frame(MessageCompression.Compress(OneSpan("gzipped").ToByteArray()), compressed: true), encoding: "gzip");
        response.Dispose();

        // Assert
        var export = Assert.Single(receiver.Exports);
        Assert.True(export.Compressed);
        Assert.Equal("gzip", export.Encoding);
        Assert.Equal("gzipped", Assert.Single(receiver.Spans).Name);
    }

    [Fact]
    public async Task Grpc_FailNext_AnswersUnavailableAndKeepsNothingThenAcceptsAgain()
    {
        // Arrange
        await using var receiver = await OtlpReceiver.StartAsync();
        receiver.FailNext(OtlpSignal.Traces, 1);

        // Act
        var (failed, _) = await CallGrpcAsync(receiver, Frame(OneSpan("refused").ToByteArray(), compressed: false));
        var (accepted, _) = await CallGrpcAsync(receiver, Frame(OneSpan("accepted").ToByteArray(), compressed: false));

        // Assert: a failure is Trailers-Only, so its status comes in the (only) headers.
        using (failed)
        using (accepted)
        {
            Assert.Equal(HttpStatusCode.OK, failed.StatusCode);
            Assert.Equal("14", Single(failed.Headers, "grpc-status"));
            Assert.Empty(failed.TrailingHeaders);
            Assert.Equal("0", Single(accepted.TrailingHeaders, "grpc-status"));
        }

        Assert.Equal([false, true], receiver.Exports.Select(e => e.Accepted));
        Assert.Equal("accepted", Assert.Single(receiver.Spans).Name);
    }

    [Fact]
    public async Task HttpProtobuf_FailNext_Answers503ThenAcceptsWithAnEmptyProtobufResponse()
    {
        // Arrange
        await using var receiver = await OtlpReceiver.StartAsync();
        receiver.FailNext(OtlpSignal.Traces, 1);
        using var http = new HttpClient();
        var url = new Uri(receiver.Endpoint, OtlpReceiver.DefaultTracesPath);

        // Act
        using var failed = await http.PostAsync(url, Protobuf(OneSpan("refused")));
        using var accepted = await http.PostAsync(url, Protobuf(OneSpan("accepted")));

        // Assert
        Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal("application/x-protobuf", accepted.Content.Headers.ContentType?.MediaType);
        Assert.Equal([false, true], receiver.Exports.Select(e => e.Accepted));
        Assert.Equal("accepted", Assert.Single(receiver.Spans).Name);
    }

    private static ByteArrayContent Protobuf(IMessage message)
    {
        var content = new ByteArrayContent(message.ToByteArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        return content;
    }
}
