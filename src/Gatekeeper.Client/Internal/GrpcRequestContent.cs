using System.Buffers;
using System.Net;
using Gatekeeper.Protocol;
using Google.Protobuf;

namespace Gatekeeper.Client.Internal;

/// <summary>
/// The request body: one length-prefixed message, serialised into a pooled buffer at the moment the handler
/// asks for the bytes. Serialising on demand (not up front) lets the handler replay the body when HTTP/2 retries
/// a request refused by the server before processing.
/// </summary>
internal sealed class GrpcRequestContent : HttpContent
{
    private readonly IMessage _message;
    private readonly bool _compress;

    public GrpcRequestContent(IMessage message, bool compress)
    {
        _message = message;
        _compress = compress;
        Headers.TryAddWithoutValidation("Content-Type", GrpcProtocol.ContentType);
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        using var buffer = Frame();
        await stream.WriteAsync(buffer.Memory, cancellationToken).ConfigureAwait(false);
    }

    protected override void SerializeToStream(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        using var buffer = Frame();
        stream.Write(buffer.Span);
    }

    // gRPC bodies are streamed without Content-Length, as other gRPC clients send them.
    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }

    private PooledBuffer Frame()
    {
        var size = _message.CalculateSize();
        if (!_compress)
        {
            var framed = new PooledBuffer(GrpcProtocol.MessagePrefixLength + size);
            var span = framed.Span;
            MessageFraming.WritePrefix(span, compressed: false, size);
            _message.WriteTo(span[GrpcProtocol.MessagePrefixLength..]);
            return framed;
        }

        byte[] compressed;
        using (var payload = new PooledBuffer(size))
        {
            _message.WriteTo(payload.Span);
            compressed = MessageCompression.Compress(payload.Span);
        }

        var result = new PooledBuffer(GrpcProtocol.MessagePrefixLength + compressed.Length);
        MessageFraming.WritePrefix(result.Span, compressed: true, compressed.Length);
        compressed.CopyTo(result.Span[GrpcProtocol.MessagePrefixLength..]);
        return result;
    }

    /// <summary>A rented array and the length in use; returns the array to the pool when disposed.</summary>
    private readonly struct PooledBuffer(int length) : IDisposable
    {
        private readonly byte[] _array = ArrayPool<byte>.Shared.Rent(length);

        public Span<byte> Span => _array.AsSpan(0, length);

        public Memory<byte> Memory => _array.AsMemory(0, length);

        public void Dispose() => ArrayPool<byte>.Shared.Return(_array);
    }
}
