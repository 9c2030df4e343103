using System.Buffers.Binary;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;

namespace Gatekeeper.Telemetry.Otlp;

/// <summary>
/// Sends OTLP trace export requests over http/protobuf (a POST of the protobuf message) or gRPC (the
/// <c>TraceService/Export</c> method over HTTP/2), with the configured headers, timeout and compression.
/// </summary>
/// <remarks>Not thread-safe: one request at a time, as the span processor sends them.</remarks>
internal sealed class OtlpTransport : IDisposable
{
    /// <summary>The gRPC method of the OTLP trace service (collector/trace/v1/trace_service.proto).</summary>
    public const string GrpcPath = "opentelemetry.proto.collector.trace.v1.TraceService/Export";

    private const int GrpcPrefix = 5;
    private static readonly MediaTypeHeaderValue ProtobufType = new("application/x-protobuf");
    private static readonly MediaTypeHeaderValue GrpcType = new("application/grpc");

    private readonly OtlpSettings _settings;
    private readonly HttpClient _http;
    private readonly MemoryStream _compressed = new();

    public OtlpTransport(OtlpSettings settings, HttpMessageHandler? handler = null)
    {
        _settings = settings;
        Target = settings.Protocol == OtlpProtocol.Grpc
            ? new Uri(settings.Endpoint.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/" + GrpcPath)
            : settings.Endpoint;
        _http = new HttpClient(handler ?? new SocketsHttpHandler { ConnectTimeout = settings.Timeout }) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("Gatekeeper-OTLP-Exporter", typeof(OtlpTransport).Assembly.GetName().Version?.ToString(3) ?? "0"));
        foreach (var header in settings.Headers)
        {
            _http.DefaultRequestHeaders.TryAddWithoutValidation(header.Key, header.Value);
        }
    }

    /// <summary>The full URL of each export request.</summary>
    public Uri Target { get; }

    /// <summary>How many bytes to leave in front of the message in the writer (the gRPC message prefix).</summary>
    public int Prefix => _settings.Protocol == OtlpProtocol.Grpc ? GrpcPrefix : 0;

    /// <summary>
    /// Sends the ExportTraceServiceRequest in <paramref name="body"/> (after <see cref="Prefix"/> bytes). Returns null
    /// when the collector accepted it, else why not; <paramref name="rejected"/> and <paramref name="rejectedMessage"/>
    /// carry the response's partial_success, when the collector dropped some of the spans.
    /// </summary>
    public string? Send(ProtobufWriter body, out long rejected, out string rejectedMessage)
    {
        rejected = 0;
        rejectedMessage = string.Empty;
        try
        {
            return Post(_settings.Protocol == OtlpProtocol.Grpc ? GrpcBody(body) : HttpBody(body), out rejected, out rejectedMessage);
        }
        catch (OperationCanceledException)
        {
            return $"no answer within {_settings.Timeout.TotalMilliseconds:0} ms";
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or InvalidOperationException)
        {
            return ex.InnerException is { } inner ? $"{ex.Message} ({inner.Message})" : ex.Message;
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        _compressed.Dispose();
    }

    private ByteArrayContent HttpBody(ProtobufWriter body)
    {
        var content = _settings.Gzip ? Compress(body, 0) : new ByteArrayContent(body.Buffer, 0, body.Length);
        content.Headers.ContentType = ProtobufType;
        if (_settings.Gzip)
        {
            content.Headers.ContentEncoding.Add("gzip");
        }

        return content;
    }

    /// <summary>The request as one gRPC length-prefixed message: a compressed flag, a big-endian length, the bytes.</summary>
    private ByteArrayContent GrpcBody(ProtobufWriter body)
    {
        ByteArrayContent content;
        if (_settings.Gzip)
        {
            content = Compress(body, GrpcPrefix);
            var framed = _compressed.GetBuffer();
            framed[0] = 1;
            BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(1), (uint)(_compressed.Length - GrpcPrefix));
        }
        else
        {
            var buffer = body.Buffer;
            buffer[0] = 0;
            BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(1), (uint)(body.Length - GrpcPrefix));
            content = new ByteArrayContent(buffer, 0, body.Length);
        }

        content.Headers.ContentType = GrpcType;
        return content;
    }

    /// <summary>Gzips what the writer holds after <paramref name="offset"/> into a reused stream, keeping that many bytes in front.</summary>
    private ByteArrayContent Compress(ProtobufWriter body, int offset)
    {
        _compressed.SetLength(offset);
        _compressed.Position = offset;
        using (var gzip = new GZipStream(_compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(body.Buffer, offset, body.Length - offset);
        }

        return new ByteArrayContent(_compressed.GetBuffer(), 0, (int)_compressed.Length);
    }

    private string? Post(ByteArrayContent content, out long rejected, out string rejectedMessage)
    {
        rejected = 0;
        rejectedMessage = string.Empty;
        using var timeout = new CancellationTokenSource(_settings.Timeout);
        using var request = new HttpRequestMessage(HttpMethod.Post, Target) { Content = content };
        if (_settings.Protocol == OtlpProtocol.HttpProtobuf)
        {
            // HTTP/1.1 can be sent synchronously: no thread-pool hop on the export thread.
            using var response = _http.Send(request, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                return $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}";
            }

            using var answer = new MemoryStream();
            response.Content.ReadAsStream(timeout.Token).CopyTo(answer);
            ReadRejected(answer.GetBuffer().AsSpan(0, (int)answer.Length), out rejected, out rejectedMessage);
            return null;
        }

        request.Version = HttpVersion.Version20;
        request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        request.Headers.TE.ParseAdd("trailers");
        if (_settings.Gzip)
        {
            request.Headers.Add("grpc-encoding", "gzip");
        }

        using var grpcResponse = _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token).GetAwaiter().GetResult();
        if (grpcResponse.StatusCode != HttpStatusCode.OK)
        {
            return $"HTTP {(int)grpcResponse.StatusCode} {grpcResponse.ReasonPhrase} from a gRPC endpoint";
        }

        var message = grpcResponse.Content.ReadAsByteArrayAsync(timeout.Token).GetAwaiter().GetResult();
        // grpc-status is a trailer, or a header in a Trailers-Only response.
        var status = Single(grpcResponse.TrailingHeaders, "grpc-status") ?? Single(grpcResponse.Headers, "grpc-status");
        if (status != "0")
        {
            var detail = Single(grpcResponse.TrailingHeaders, "grpc-message") ?? Single(grpcResponse.Headers, "grpc-message");
            return status is null ? "a gRPC response without grpc-status" : $"grpc-status {status}{(detail is null ? string.Empty : ": " + Uri.UnescapeDataString(detail))}";
        }

        if (message.Length >= GrpcPrefix && message[0] == 0)
        {
            ReadRejected(message.AsSpan(GrpcPrefix), out rejected, out rejectedMessage);
        }

        return null;
    }

    private static string? Single(HttpHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    private static void ReadRejected(ReadOnlySpan<byte> response, out long rejected, out string message)
    {
        if (response.IsEmpty || !ExportResponse.TryReadPartialSuccess(response, out rejected, out message))
        {
            rejected = 0;
            message = string.Empty;
        }
    }
}
