using System.Text;

namespace Gatekeeper.LoadTests.Http2;

/// <summary>
/// The HPACK (RFC 7541) a client needs to send requests: literal header fields without indexing (section 6.2.2),
/// strings as raw octets, never Huffman-coded. Nothing enters the server's dynamic table, so a block can be built
/// once and sent with every request. Also used by the functional tests' raw HTTP/2 client, which writes malformed
/// headers on purpose: names and values are written exactly as given.
/// </summary>
internal static class HpackEncoder
{
    /// <summary>A field whose name is entry <paramref name="staticNameIndex"/> of the static table.</summary>
    public static void AppendLiteral(List<byte> block, int staticNameIndex, string value)
    {
        AppendInteger(block, 0x00, 4, staticNameIndex);
        AppendString(block, value);
    }

    /// <summary>A field with a literal name.</summary>
    public static void AppendLiteral(List<byte> block, string name, string value)
    {
        block.Add(0x00);
        AppendString(block, name);
        AppendString(block, value);
    }

    private static void AppendString(List<byte> block, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        AppendInteger(block, 0x00, 7, bytes.Length); // H = 0: raw octets
        block.AddRange(bytes);
    }

    // Prefix integer (section 5.1).
    private static void AppendInteger(List<byte> block, byte high, int prefixBits, int value)
    {
        var max = (1 << prefixBits) - 1;
        if (value < max)
        {
            block.Add((byte)(high | value));
            return;
        }

        block.Add((byte)(high | max));
        value -= max;
        while (value >= 128)
        {
            block.Add((byte)((value & 0x7F) | 0x80));
            value >>= 7;
        }

        block.Add((byte)value);
    }
}
