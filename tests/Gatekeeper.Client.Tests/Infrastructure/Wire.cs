using System.Buffers.Binary;
using System.IO.Compression;
using Google.Protobuf;

namespace Gatekeeper.Client.Tests.Infrastructure;

/// <summary>Builds wire bytes by hand, independently of the client's own framing code.</summary>
internal static class Wire
{
    public static byte[] Frame(IMessage message) => Frame(message.ToByteArray());

    public static byte[] Frame(byte[] payload, byte flag = 0) => Prefix(flag, (uint)payload.Length).Concat(payload).ToArray();

    public static byte[] Prefix(byte flag, uint length)
    {
        var prefix = new byte[5];
        prefix[0] = flag;
        BinaryPrimitives.WriteUInt32BigEndian(prefix.AsSpan(1), length);
        return prefix;
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(static p => p).ToArray();

    public static byte[] Gzip(byte[] payload)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal))
        {
            gzip.Write(payload);
        }

        return output.ToArray();
    }

    public static byte[] Gunzip(byte[] payload)
    {
        using var input = new GZipStream(new MemoryStream(payload), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }
}
