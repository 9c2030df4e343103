using System.Buffers;
using System.IO.Pipelines;
using Gatekeeper.Protocol;
using Google.Protobuf;

namespace Gatekeeper.Transport.Internal;

/// <summary>Reads the single request message of a unary or server-streaming call from the request body.</summary>
internal static class MessageReader
{
    /// <summary>
    /// Reads exactly one length-prefixed message and the end of the stream, then parses it without copying.
    /// The size limit is checked on the prefix, so an oversized message is refused before it is buffered.
    /// </summary>
    public static async ValueTask<T> ReadSingleAsync<T>(PipeReader reader, MessageParser<T> parser, string? encoding, int maxSize, CancellationToken cancellationToken)
        where T : IMessage<T>
    {
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(cancellationToken);
                var buffer = result.Buffer;
                if (TryParse(buffer, result.IsCompleted, parser, encoding, maxSize, out var message))
                {
                    reader.AdvanceTo(buffer.End);
                    return message;
                }

                // Not enough yet: keep everything, ask for more.
                reader.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch (IOException)
        {
            // Kestrel ends the body this way when the caller resets the stream (e.g. its deadline passed),
            // sometimes before RequestAborted is signalled, and from AdvanceTo as well as ReadAsync: the caller
            // is gone, nothing failed here.
            throw new RpcException(StatusCode.Cancelled, "The caller reset the stream.");
        }
    }

    /// <summary>
    /// Returns true with the message once the whole body (one message, then end of stream) is in
    /// <paramref name="buffer"/>; false when more data is needed; throws <see cref="RpcException"/> for bodies
    /// that can never become one valid message.
    /// </summary>
    internal static bool TryParse<T>(in ReadOnlySequence<byte> buffer, bool isCompleted, MessageParser<T> parser, string? encoding, int maxSize, out T message)
        where T : IMessage<T>
    {
        message = default!;
        if (!MessageFraming.TryReadPrefix(buffer, out var flag, out var length))
        {
            if (!isCompleted)
            {
                return false;
            }

            throw buffer.IsEmpty
                ? new RpcException(StatusCode.Unimplemented, "Request had no message: a unary call needs exactly one.")
                : new RpcException(StatusCode.Internal, "Incomplete message: the stream ended inside the message prefix.");
        }

        if (flag > 1)
        {
            throw new RpcException(StatusCode.Internal, $"Invalid compressed flag {flag} in the message prefix: only 0 and 1 are defined.");
        }

        if (length > (uint)maxSize)
        {
            throw new RpcException(StatusCode.ResourceExhausted, $"Received message larger than max ({length} vs. {maxSize}).");
        }

        var compressed = flag == 1;
        if (compressed)
        {
            CheckEncoding(encoding);
        }

        var frameLength = GrpcProtocol.MessagePrefixLength + (long)length;
        if (buffer.Length < frameLength)
        {
            if (isCompleted)
            {
                throw new RpcException(StatusCode.Internal, $"Incomplete message: expected {length} bytes, the stream ended after {buffer.Length - GrpcProtocol.MessagePrefixLength}.");
            }

            return false;
        }

        if (buffer.Length > frameLength)
        {
            throw new RpcException(StatusCode.Unimplemented, "More than one request message on a unary call: it takes exactly one.");
        }

        if (!isCompleted)
        {
            // The message is complete but the stream is not: wait for END_STREAM so that a second message
            // cannot slip in behind an answer already given.
            return false;
        }

        var payload = buffer.Slice(GrpcProtocol.MessagePrefixLength);
        try
        {
            if (compressed)
            {
                var inflated = MessageCompression.Decompress(payload, maxSize)
                    ?? throw new RpcException(StatusCode.ResourceExhausted, $"Decompressed message larger than max ({maxSize}).");
                message = parser.ParseFrom(inflated);
            }
            else
            {
                message = parser.ParseFrom(payload);
            }
        }
        catch (InvalidProtocolBufferException)
        {
            throw new RpcException(StatusCode.Internal, "Failed to deserialize request message.");
        }
        catch (InvalidDataException)
        {
            throw new RpcException(StatusCode.Internal, "Failed to decompress request message: not valid gzip.");
        }

        return true;
    }

    private static void CheckEncoding(string? encoding)
    {
        if (encoding is null || encoding == GrpcProtocol.IdentityEncoding)
        {
            throw new RpcException(StatusCode.Internal, "Request message has the compressed flag set but no grpc-encoding names its compression.");
        }

        if (encoding != GrpcProtocol.GzipEncoding)
        {
            throw new RpcException(StatusCode.Unimplemented, $"Unsupported grpc-encoding '{encoding}'. Supported: {GrpcProtocol.SupportedEncodings}.")
            {
                Headers = [new(GrpcProtocol.AcceptEncodingHeader, GrpcProtocol.SupportedEncodings)],
            };
        }
    }
}
