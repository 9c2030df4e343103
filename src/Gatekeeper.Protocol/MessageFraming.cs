using System.Buffers;
using System.Buffers.Binary;

namespace Gatekeeper.Protocol;

/// <summary>The length-prefixed message framing: 1-byte compressed flag, 4-byte big-endian length, bytes.</summary>
public static class MessageFraming
{
    /// <summary>
    /// Reads the 5-byte prefix at the start of <paramref name="buffer"/>. Returns false when fewer than five
    /// bytes are available. The flag is returned as sent: 0 = not compressed, 1 = compressed, anything else
    /// is a protocol error for the caller to report.
    /// </summary>
    public static bool TryReadPrefix(in ReadOnlySequence<byte> buffer, out byte flag, out uint length)
    {
        if (buffer.Length < GrpcProtocol.MessagePrefixLength)
        {
            flag = 0;
            length = 0;
            return false;
        }

        Span<byte> prefix = stackalloc byte[GrpcProtocol.MessagePrefixLength];
        var first = buffer.FirstSpan;
        if (first.Length >= GrpcProtocol.MessagePrefixLength)
        {
            first[..GrpcProtocol.MessagePrefixLength].CopyTo(prefix);
        }
        else
        {
            buffer.Slice(0, GrpcProtocol.MessagePrefixLength).CopyTo(prefix);
        }

        flag = prefix[0];
        length = BinaryPrimitives.ReadUInt32BigEndian(prefix[1..]);
        return true;
    }

    /// <summary>Writes the 5-byte prefix into <paramref name="destination"/>.</summary>
    public static void WritePrefix(Span<byte> destination, bool compressed, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        destination[0] = compressed ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], (uint)length);
    }
}
