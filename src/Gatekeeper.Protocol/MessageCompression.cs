using System.Buffers;
using System.IO.Compression;

namespace Gatekeeper.Protocol;

/// <summary>gzip for message payloads (grpc/grpc doc/compression.md). Only gzip and identity are spoken.</summary>
public static class MessageCompression
{
    /// <summary>True when <paramref name="encoding"/> is one this implementation can read and write.</summary>
    public static bool IsSupported(string encoding) =>
        string.Equals(encoding, GrpcProtocol.GzipEncoding, StringComparison.Ordinal) ||
        string.Equals(encoding, GrpcProtocol.IdentityEncoding, StringComparison.Ordinal);

    /// <summary>Compresses <paramref name="payload"/> with gzip.</summary>
    public static byte[] Compress(ReadOnlySpan<byte> payload)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(payload);
        }

        return output.ToArray();
    }

    /// <summary>
    /// Decompresses a gzip payload, refusing to produce more than <paramref name="maxLength"/> bytes so that
    /// a small compressed message cannot expand past the receive limit (a "zip bomb").
    /// Returns null when the output would exceed the limit; throws <see cref="InvalidDataException"/> for
    /// data that is not gzip.
    /// </summary>
    public static byte[]? Decompress(in ReadOnlySequence<byte> payload, int maxLength)
    {
        using var input = new SequenceStream(payload);
        using var gzip = new GZipStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = gzip.Read(buffer, 0, buffer.Length)) > 0)
            {
                if (output.Length + read > maxLength)
                {
                    return null;
                }

                output.Write(buffer, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return output.ToArray();
    }

    /// <summary>A read-only stream over a sequence, so that decompression reads the frames without copying.</summary>
    private sealed class SequenceStream(ReadOnlySequence<byte> sequence) : Stream
    {
        private ReadOnlySequence<byte> _remaining = sequence;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = (int)Math.Min(buffer.Length, _remaining.Length);
            _remaining.Slice(0, n).CopyTo(buffer);
            _remaining = _remaining.Slice(n);
            return n;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
