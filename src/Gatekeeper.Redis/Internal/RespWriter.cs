using System.Buffers;
using System.Text;

namespace Gatekeeper.Redis.Internal;

/// <summary>
/// Encodes commands as RESP arrays of bulk strings straight into the connection's output buffer: keys are
/// UTF-8 encoded in place, numbers formatted in place, command names pre-encoded. Nothing per call is
/// allocated on the heap.
/// </summary>
internal static class RespWriter
{
    public static void WriteArrayHeader(IBufferWriter<byte> writer, int count)
    {
        var span = writer.GetSpan(16);
        span[0] = (byte)'*';
        count.TryFormat(span[1..], out var written, provider: System.Globalization.CultureInfo.InvariantCulture);
        span[1 + written] = (byte)'\r';
        span[2 + written] = (byte)'\n';
        writer.Advance(3 + written);
    }

    /// <summary>Writes a pre-encoded bulk string (see <see cref="RedisCommands"/>).</summary>
    public static void WriteRaw(IBufferWriter<byte> writer, ReadOnlySpan<byte> encoded) => writer.Write(encoded);

    public static void WriteBulk(IBufferWriter<byte> writer, ReadOnlySpan<byte> value)
    {
        WriteBulkHeader(writer, value.Length);
        writer.Write(value);
        WriteCrlf(writer);
    }

    /// <summary>One bulk string made of two parts (a header and a payload), without concatenating them first.</summary>
    public static void WriteBulk(IBufferWriter<byte> writer, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        WriteBulkHeader(writer, first.Length + second.Length);
        writer.Write(first);
        writer.Write(second);
        WriteCrlf(writer);
    }

    /// <summary>A UTF-8 bulk string of <paramref name="prefix"/> followed by <paramref name="value"/> (instance name + key).</summary>
    public static void WriteBulk(IBufferWriter<byte> writer, string? prefix, string value)
    {
        var prefixLength = prefix is null ? 0 : Encoding.UTF8.GetByteCount(prefix);
        var valueLength = Encoding.UTF8.GetByteCount(value);
        WriteBulkHeader(writer, prefixLength + valueLength);
        if (prefixLength > 0)
        {
            var span = writer.GetSpan(prefixLength);
            writer.Advance(Encoding.UTF8.GetBytes(prefix, span));
        }

        if (valueLength > 0)
        {
            var span = writer.GetSpan(valueLength);
            writer.Advance(Encoding.UTF8.GetBytes(value, span));
        }

        WriteCrlf(writer);
    }

    public static void WriteBulk(IBufferWriter<byte> writer, long value)
    {
        Span<byte> digits = stackalloc byte[20];
        value.TryFormat(digits, out var written, provider: System.Globalization.CultureInfo.InvariantCulture);
        WriteBulk(writer, digits[..written]);
    }

    private static void WriteBulkHeader(IBufferWriter<byte> writer, int length)
    {
        var span = writer.GetSpan(16);
        span[0] = (byte)'$';
        length.TryFormat(span[1..], out var written, provider: System.Globalization.CultureInfo.InvariantCulture);
        span[1 + written] = (byte)'\r';
        span[2 + written] = (byte)'\n';
        writer.Advance(3 + written);
    }

    private static void WriteCrlf(IBufferWriter<byte> writer)
    {
        var span = writer.GetSpan(2);
        span[0] = (byte)'\r';
        span[1] = (byte)'\n';
        writer.Advance(2);
    }
}
