using System.Buffers.Binary;
using System.Text;

namespace Gatekeeper.Telemetry.Otlp;

/// <summary>
/// Writes protobuf wire format into one growing, reused buffer. A nested message is written in place: its length is
/// reserved as a 4-byte varint (protobuf accepts non-minimal varints) and filled in when the message ends, so nothing
/// is encoded twice and nothing is allocated per message.
/// </summary>
internal sealed class ProtobufWriter(int capacity = 64 * 1024)
{
    private const int VarintWire = 0;
    private const int Fixed64Wire = 1;
    private const int LengthWire = 2;
    private const int Fixed32Wire = 5;
    private const int ReservedLength = 4;

    private byte[] _buffer = new byte[capacity];
    private int _position;

    /// <summary>The bytes written since the last <see cref="Reset"/>.</summary>
    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _position);

    /// <summary>The buffer itself (valid up to <see cref="Length"/>), for sending without a copy.</summary>
    public byte[] Buffer => _buffer;

    /// <summary>The number of bytes written.</summary>
    public int Length => _position;

    /// <summary>Starts again at <paramref name="offset"/>, leaving that many bytes in front (e.g. a gRPC message prefix).</summary>
    public void Reset(int offset = 0)
    {
        Ensure(offset);
        _position = offset;
    }

    /// <summary>Drops what was written after <paramref name="length"/> bytes.</summary>
    public void Truncate(int length) => _position = Math.Min(_position, length);

    /// <summary>Opens a nested message; pass the result to <see cref="EndMessage"/>.</summary>
    public int BeginMessage(int field)
    {
        Tag(field, LengthWire);
        Ensure(ReservedLength);
        _position += ReservedLength;
        return _position;
    }

    /// <summary>Closes the message opened at <paramref name="start"/> by writing its length.</summary>
    public void EndMessage(int start)
    {
        var length = (uint)(_position - start);
        if (length >= 1u << 28)
        {
            throw new InvalidOperationException($"A protobuf message of {length} bytes does not fit a 4-byte length.");
        }

        var at = start - ReservedLength;
        _buffer[at] = (byte)(length | 0x80);
        _buffer[at + 1] = (byte)((length >> 7) | 0x80);
        _buffer[at + 2] = (byte)((length >> 14) | 0x80);
        _buffer[at + 3] = (byte)(length >> 21);
    }

    public void String(int field, string text)
    {
        Tag(field, LengthWire);
        // Up to 42 UTF-16 chars make at most 126 UTF-8 bytes: a one-byte length, known after encoding.
        if (text.Length <= 42)
        {
            Ensure(1 + (text.Length * 3));
            var count = Encoding.UTF8.GetBytes(text, _buffer.AsSpan(_position + 1));
            _buffer[_position] = (byte)count;
            _position += 1 + count;
            return;
        }

        var bytes = Encoding.UTF8.GetByteCount(text);
        RawVarint((uint)bytes);
        Ensure(bytes);
        _position += Encoding.UTF8.GetBytes(text, _buffer.AsSpan(_position));
    }

    public void Bytes(int field, ReadOnlySpan<byte> bytes)
    {
        Tag(field, LengthWire);
        RawVarint((uint)bytes.Length);
        Raw(bytes);
    }

    /// <summary>Writes a W3C id given as lower-case hex (as Activity keeps them) as its bytes.</summary>
    public void HexId(int field, string hex)
    {
        var bytes = hex.Length / 2;
        Tag(field, LengthWire);
        Ensure(1 + bytes);
        _buffer[_position] = (byte)bytes;
        if (Convert.FromHexString(hex, _buffer.AsSpan(_position + 1, bytes), out _, out var written) != System.Buffers.OperationStatus.Done || written != bytes)
        {
            throw new FormatException($"'{hex}' is not a hex id.");
        }

        _position += 1 + bytes;
    }

    public void Varint(int field, ulong value)
    {
        Tag(field, VarintWire);
        RawVarint(value);
    }

    public void Fixed64(int field, ulong value)
    {
        Tag(field, Fixed64Wire);
        Ensure(8);
        BinaryPrimitives.WriteUInt64LittleEndian(_buffer.AsSpan(_position), value);
        _position += 8;
    }

    public void Double(int field, double value) => Fixed64(field, BitConverter.DoubleToUInt64Bits(value));

    public void Fixed32(int field, uint value)
    {
        Tag(field, Fixed32Wire);
        Ensure(4);
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(_position), value);
        _position += 4;
    }

    /// <summary>Copies bytes that are already protobuf (a field encoded earlier).</summary>
    public void Raw(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_position));
        _position += bytes.Length;
    }

    private void Tag(int field, int wire) => RawVarint((uint)((field << 3) | wire));

    private void RawVarint(ulong value)
    {
        Ensure(10);
        var buffer = _buffer;
        var position = _position;
        while (value >= 0x80)
        {
            buffer[position++] = (byte)(value | 0x80);
            value >>= 7;
        }

        buffer[position++] = (byte)value;
        _position = position;
    }

    private void Ensure(int more)
    {
        if (_position + more > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _position + more));
        }
    }
}
