using System.Buffers.Text;

namespace Gatekeeper.Protocol;

/// <summary>Values of "-bin" metadata keys: base64, sent unpadded by some peers and padded by others.</summary>
public static class BinaryMetadata
{
    /// <summary>True when <paramref name="key"/> names a binary header.</summary>
    public static bool IsBinaryKey(string key) => key.EndsWith(GrpcProtocol.BinaryHeaderSuffix, StringComparison.OrdinalIgnoreCase);

    /// <summary>Encodes bytes as padded base64 (what grpc-dotnet and C-core send).</summary>
    public static string Encode(ReadOnlySpan<byte> value) => Convert.ToBase64String(value);

    /// <summary>Decodes padded or unpadded base64. Returns false for anything else.</summary>
    public static bool TryDecode(string value, out byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(value);
        var padded = (value.Length % 4) switch
        {
            0 => value,
            2 => value + "==",
            3 => value + "=",
            _ => null,
        };
        bytes = [];
        if (padded is null)
        {
            return false;
        }

        var buffer = new byte[Base64.GetMaxDecodedFromUtf8Length(padded.Length)];
        if (!Convert.TryFromBase64String(padded, buffer, out var written))
        {
            return false;
        }

        bytes = buffer.AsSpan(0, written).ToArray();
        return true;
    }
}
