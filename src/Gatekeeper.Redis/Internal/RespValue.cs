using System.Text;

namespace Gatekeeper.Redis.Internal;

/// <summary>The kinds of reply the client distinguishes. RESP3 types are folded into their RESP2 equivalents.</summary>
internal enum RespType : byte
{
    /// <summary>Null bulk string, null array, or RESP3 null. Zero so that <c>default</c> is null.</summary>
    Null = 0,
    SimpleString,
    Error,
    Integer,
    BulkString,
    Array,

    /// <summary>A RESP3 out-of-band push (<c>&gt;</c>).</summary>
    Push,
}

/// <summary>One parsed reply. Bulk payloads are copied out of the pipe so the reply outlives the read buffer.</summary>
internal readonly struct RespValue
{
    private static readonly byte[] Ok = "OK"u8.ToArray();
    private static readonly byte[] Pong = "PONG"u8.ToArray();

    private RespValue(RespType type, long integer, byte[]? bytes, RespValue[]? items)
    {
        Type = type;
        Integer = integer;
        Bytes = bytes;
        Items = items;
    }

    public RespType Type { get; }

    public long Integer { get; }

    /// <summary>The payload of simple strings, errors and bulk strings.</summary>
    public byte[]? Bytes { get; }

    /// <summary>The elements of arrays and pushes (maps are flattened key, value, key, value).</summary>
    public RespValue[]? Items { get; }

    public bool IsNull => Type == RespType.Null;

    public static RespValue Null => default;

    public static RespValue FromInteger(long value) => new(RespType.Integer, value, null, null);

    public static RespValue FromBulk(byte[] bytes) => new(RespType.BulkString, 0, bytes, null);

    public static RespValue FromError(byte[] bytes) => new(RespType.Error, 0, bytes, null);

    public static RespValue FromArray(RespValue[] items, bool push) => new(push ? RespType.Push : RespType.Array, 0, null, items);

    /// <summary>Simple strings: the two that dominate traffic are shared instead of allocated per reply.</summary>
    public static RespValue FromSimple(ReadOnlySpan<byte> text)
    {
        if (text.SequenceEqual(Ok))
        {
            return new RespValue(RespType.SimpleString, 0, Ok, null);
        }

        if (text.SequenceEqual(Pong))
        {
            return new RespValue(RespType.SimpleString, 0, Pong, null);
        }

        return new RespValue(RespType.SimpleString, 0, text.ToArray(), null);
    }

    public bool IsOk => Type == RespType.SimpleString && ReferenceEquals(Bytes, Ok);

    public bool BytesEqual(ReadOnlySpan<byte> text) => Bytes is not null && text.SequenceEqual(Bytes);

    public string? GetString() => Bytes is null ? null : Encoding.UTF8.GetString(Bytes);

    public override string ToString() => Type switch
    {
        RespType.Null => "(nil)",
        RespType.Integer => Integer.ToString(System.Globalization.CultureInfo.InvariantCulture),
        RespType.Array or RespType.Push => $"{Type}[{Items!.Length}]",
        _ => $"{Type}:{GetString()}",
    };
}
