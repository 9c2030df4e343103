using System.Buffers;
using Gatekeeper.Protocol;
using Google.Protobuf;

namespace Gatekeeper.Client.Internal;

/// <summary>
/// One call on the wire: sends the request, checks the response headers, reads length-prefixed messages into a
/// pooled buffer sized by each prefix, and turns the trailers (or anything that went wrong) into a status.
/// Disposing it before the body is read to the end resets the HTTP/2 stream.
/// </summary>
internal sealed class GrpcCall<TResponse> : IDisposable
    where TResponse : class, IMessage<TResponse>
{
    // Longest delay a timer accepts (uint.MaxValue - 1 ms, about 49 days); longer deadlines are only sent, not timed.
    private static readonly TimeSpan MaxTimerDelay = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    private readonly HttpClient _httpClient;
    private readonly HttpRequestMessage _request;
    private readonly MessageParser<TResponse> _parser;
    private readonly int _maxReceiveMessageSize;
    private readonly TimeSpan? _timeout;
    private readonly CancellationToken _callerToken;
    private readonly CancellationTokenSource? _deadlineCts;
    private readonly CancellationTokenRegistration _callerRegistration;
    private readonly CancellationToken _token;
    private HttpResponseMessage? _response;
    private RpcStatus? _headerStatus;
    private Stream? _body;
    private byte[]? _buffer;

    public GrpcCall(
        HttpClient httpClient,
        HttpRequestMessage request,
        MessageParser<TResponse> parser,
        int maxReceiveMessageSize,
        TimeSpan? timeout,
        TimeProvider timeProvider,
        CancellationToken callerToken)
    {
        _httpClient = httpClient;
        _request = request;
        _parser = parser;
        _maxReceiveMessageSize = maxReceiveMessageSize;
        _timeout = timeout;
        _callerToken = callerToken;
        if (timeout is { } delay && delay <= MaxTimerDelay)
        {
            _deadlineCts = new CancellationTokenSource(delay, timeProvider);
            if (callerToken.CanBeCanceled)
            {
                _callerRegistration = callerToken.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), _deadlineCts);
            }

            _token = _deadlineCts.Token;
        }
        else
        {
            _token = callerToken;
        }
    }

    /// <summary>Sends the request and waits for the response headers.</summary>
    public async Task StartAsync()
    {
        try
        {
            _response = await _httpClient.SendAsync(_request, HttpCompletionOption.ResponseHeadersRead, _token).ConfigureAwait(false);
            _headerStatus = RpcStatus.FromHeaders(_response);
            if (_headerStatus is null)
            {
                _body = await _response.Content.ReadAsStreamAsync(_token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (IsTransportFailure(ex))
        {
            throw MapFailure(ex, $"Starting the call to {_request.RequestUri}");
        }
    }

    /// <summary>
    /// Reads the next message. Returns null when the call ended with status OK; throws <see cref="RpcException"/>
    /// for any other status, a malformed response, the deadline or cancellation.
    /// </summary>
    public async ValueTask<TResponse?> ReadMessageAsync()
    {
        if (_body is null)
        {
            return Finish(_headerStatus!.Value);
        }

        try
        {
            var buffer = EnsureBuffer(GrpcProtocol.MessagePrefixLength);
            var read = await _body.ReadAtLeastAsync(buffer.AsMemory(0, GrpcProtocol.MessagePrefixLength), GrpcProtocol.MessagePrefixLength, throwOnEndOfStream: false, _token).ConfigureAwait(false);
            if (read == 0)
            {
                return Finish(RpcStatus.FromTrailers(_response!.TrailingHeaders));
            }

            if (read < GrpcProtocol.MessagePrefixLength)
            {
                throw Internal($"Bad gRPC response: the body ended inside a message prefix ({read} of {GrpcProtocol.MessagePrefixLength} bytes).");
            }

            MessageFraming.TryReadPrefix(new ReadOnlySequence<byte>(buffer, 0, GrpcProtocol.MessagePrefixLength), out var flag, out var length);
            if (flag > 1)
            {
                throw Internal($"Bad gRPC response: invalid compressed flag {flag} in a message prefix.");
            }

            // Decided from the prefix alone: an oversized message is never buffered, and disposing resets the stream.
            if (length > (uint)_maxReceiveMessageSize)
            {
                throw new RpcException(
                    StatusCode.ResourceExhausted,
                    $"Received message of {length} bytes exceeds the limit of {_maxReceiveMessageSize} bytes (MaxReceiveMessageSize).");
            }

            var size = (int)length;
            buffer = EnsureBuffer(size);
            read = size == 0 ? 0 : await _body.ReadAtLeastAsync(buffer.AsMemory(0, size), size, throwOnEndOfStream: false, _token).ConfigureAwait(false);
            if (read < size)
            {
                throw Internal($"Bad gRPC response: the body ended inside a message ({read} of {size} bytes).");
            }

            return Parse(buffer, size, compressed: flag == 1);
        }
        catch (Exception ex) when (IsTransportFailure(ex))
        {
            throw MapFailure(ex, "Reading the response");
        }
    }

    /// <summary>For unary calls: checks that no second message follows, then that the trailers say OK.</summary>
    public async ValueTask ReadEndAsync()
    {
        if (_body is null)
        {
            Finish(_headerStatus!.Value);
            return;
        }

        int read;
        try
        {
            read = await _body.ReadAsync(EnsureBuffer(1).AsMemory(0, 1), _token).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsTransportFailure(ex))
        {
            throw MapFailure(ex, "Reading the response");
        }

        if (read != 0)
        {
            throw Internal("Bad gRPC response: the server sent more than one message on a unary call.");
        }

        Finish(RpcStatus.FromTrailers(_response!.TrailingHeaders));
    }

    /// <summary>The response headers as metadata.</summary>
    public Metadata BuildResponseHeaders() => _response is null ? new Metadata() : HeaderValues.ToMetadata(_response.Headers);

    /// <summary>The trailers as metadata; for a Trailers-Only response, its headers.</summary>
    public Metadata BuildTrailers()
    {
        if (_response is null)
        {
            return new Metadata();
        }

        return HeaderValues.ToMetadata(_body is null ? _response.Headers : _response.TrailingHeaders);
    }

    public void Dispose()
    {
        // The registration first, so that its callback cannot run against a disposed source.
        _callerRegistration.Dispose();

        // A response whose body was not read to the end is aborted: the handler sends RST_STREAM (CANCEL).
        _response?.Dispose();
        _request.Dispose();
        _deadlineCts?.Dispose();
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }
    }

    private static bool IsTransportFailure(Exception ex) => ex is OperationCanceledException or HttpRequestException or IOException;

    private TResponse? Finish(RpcStatus status) =>
        status.Code == StatusCode.OK ? null : throw new RpcException(status.Code, status.Detail, BuildTrailers());

    private static RpcException Internal(string detail, Exception? innerException = null) =>
        new(StatusCode.Internal, detail, null, innerException);

    private byte[] EnsureBuffer(int size)
    {
        if (_buffer is null || _buffer.Length < size)
        {
            if (_buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
            }

            // At least 256 bytes, so that most small messages reuse the buffer rented for the prefix.
            _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(size, 256));
        }

        return _buffer;
    }

    private TResponse Parse(byte[] buffer, int size, bool compressed)
    {
        if (!compressed)
        {
            return ParseMessage(buffer.AsSpan(0, size));
        }

        HeaderValues.TryGetFirst(_response!.Headers, GrpcProtocol.EncodingHeader, out var encoding);
        if (encoding is null || encoding == GrpcProtocol.IdentityEncoding)
        {
            throw Internal("Bad gRPC response: a message has the compressed flag set but the response names no grpc-encoding.");
        }

        if (encoding != GrpcProtocol.GzipEncoding)
        {
            throw Internal($"Bad gRPC response: messages are compressed with '{encoding}', which this client does not support ({GrpcProtocol.SupportedEncodings}).");
        }

        byte[]? plain;
        try
        {
            plain = MessageCompression.Decompress(new ReadOnlySequence<byte>(buffer, 0, size), _maxReceiveMessageSize);
        }
        catch (InvalidDataException ex)
        {
            throw Internal("Bad gRPC response: a gzip message could not be decompressed.", ex);
        }

        if (plain is null)
        {
            throw new RpcException(
                StatusCode.ResourceExhausted,
                $"Received message exceeds the limit of {_maxReceiveMessageSize} bytes (MaxReceiveMessageSize) once decompressed.");
        }

        return ParseMessage(plain);
    }

    private TResponse ParseMessage(ReadOnlySpan<byte> data)
    {
        try
        {
            return _parser.ParseFrom(data);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw Internal($"Failed to deserialize the response message: {ex.Message}", ex);
        }
    }

    private RpcException MapFailure(Exception ex, string stage)
    {
        if (_callerToken.IsCancellationRequested)
        {
            return new RpcException(StatusCode.Cancelled, "The call was cancelled by the caller.", null, ex);
        }

        if (_deadlineCts is { IsCancellationRequested: true })
        {
            return new RpcException(StatusCode.DeadlineExceeded, $"The deadline passed before the call completed (timeout {_timeout!.Value.TotalMilliseconds:0.###} ms).", null, ex);
        }

        if (ex is OperationCanceledException { InnerException: TimeoutException })
        {
            return new RpcException(StatusCode.DeadlineExceeded, $"{stage} failed: HttpClient.Timeout elapsed; use a deadline instead.", null, ex);
        }

        if (ex is OperationCanceledException)
        {
            return new RpcException(StatusCode.Cancelled, $"{stage} failed: the call was cancelled.", null, ex);
        }

        for (var inner = (Exception?)ex; inner is not null; inner = inner.InnerException)
        {
            if (inner is HttpProtocolException protocolError)
            {
                var code = Http2ErrorMapping.ToStatusCode(protocolError.ErrorCode);
                return new RpcException(code, $"{stage} failed: {protocolError.Message}", null, ex);
            }
        }

        return new RpcException(StatusCode.Unavailable, $"{stage} failed: {ex.Message}", null, ex);
    }
}
