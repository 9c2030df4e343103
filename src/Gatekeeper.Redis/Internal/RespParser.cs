using System.Buffers;

namespace Gatekeeper.Redis.Internal;

/// <summary>
/// Parses RESP2 replies (and the RESP3 types a server may send) from a <see cref="ReadOnlySequence{T}"/>.
/// Hostile input is the design case: every declared length is checked against <see cref="RespLimits"/> before
/// anything is allocated, and nothing is allocated for a frame until all of its bytes have arrived, so a
/// truncated or lying frame costs at most a re-scan, never a huge buffer.
/// </summary>
internal static class RespParser
{
    // Smallest possible encoding of one element ("_\r\n"); lets an array whose bytes cannot all be here yet
    // be declared incomplete without scanning it.
    private const int MinElementBytes = 3;

    /// <summary>
    /// Reads one complete reply. Returns false (and leaves <paramref name="reader"/> where it was) when more bytes
    /// are needed. Throws <see cref="RedisProtocolException"/> on malformed or over-limit input.
    /// </summary>
    public static bool TryParse(ref SequenceReader<byte> reader, in RespLimits limits, out RespValue value)
    {
        value = default;
        if (!reader.TryPeek(out var prefix))
        {
            return false;
        }

        if (IsAggregate(prefix))
        {
            // Scan first without allocating: an array header can promise a million elements that never come.
            var probe = reader;
            if (!TryReadValue(ref probe, limits, 0, materialize: false, out _))
            {
                return false;
            }
        }

        var start = reader;
        if (!TryReadValue(ref reader, limits, 0, materialize: true, out value))
        {
            reader = start;
            return false;
        }

        return true;
    }

    private static bool IsAggregate(byte prefix) => prefix is (byte)'*' or (byte)'%' or (byte)'~' or (byte)'>';

    private static bool TryReadValue(ref SequenceReader<byte> reader, in RespLimits limits, int depth, bool materialize, out RespValue value)
    {
        value = default;
        if (!reader.TryRead(out var prefix))
        {
            return false;
        }

        ReadOnlySequence<byte> line;
        switch (prefix)
        {
            case (byte)'+':
            case (byte)',': // RESP3 double, kept as text
            case (byte)'(': // RESP3 big number, kept as text
                if (!TryReadLine(ref reader, limits, out line))
                {
                    return false;
                }

                if (materialize)
                {
                    value = RespValue.FromSimple(ToSpan(line, stackalloc byte[256]));
                }

                return true;

            case (byte)'-':
                if (!TryReadLine(ref reader, limits, out line))
                {
                    return false;
                }

                if (materialize)
                {
                    value = RespValue.FromError(line.ToArray());
                }

                return true;

            case (byte)':':
                if (!TryReadLine(ref reader, limits, out line))
                {
                    return false;
                }

                var integer = ParseInteger(line, "integer");
                value = RespValue.FromInteger(integer);
                return true;

            case (byte)'#': // RESP3 boolean
                if (!TryReadLine(ref reader, limits, out line))
                {
                    return false;
                }

                if (line.Length != 1 || (line.FirstSpan[0] != (byte)'t' && line.FirstSpan[0] != (byte)'f'))
                {
                    throw new RedisProtocolException("RESP boolean is not 't' or 'f'");
                }

                value = RespValue.FromInteger(line.FirstSpan[0] == (byte)'t' ? 1 : 0);
                return true;

            case (byte)'_': // RESP3 null
                if (!TryReadLine(ref reader, limits, out line))
                {
                    return false;
                }

                if (line.Length != 0)
                {
                    throw new RedisProtocolException("RESP null carries data");
                }

                return true;

            case (byte)'$':
            case (byte)'!': // RESP3 bulk error
            case (byte)'=': // RESP3 verbatim string
                return TryReadBulk(ref reader, limits, prefix, materialize, out value);

            case (byte)'*':
            case (byte)'%':
            case (byte)'~':
            case (byte)'>':
                return TryReadAggregate(ref reader, limits, prefix, depth, materialize, out value);

            default:
                throw new RedisProtocolException($"unexpected RESP type byte 0x{prefix:X2}");
        }
    }

    private static bool TryReadBulk(ref SequenceReader<byte> reader, in RespLimits limits, byte prefix, bool materialize, out RespValue value)
    {
        value = default;
        if (!TryReadLine(ref reader, limits, out var line))
        {
            return false;
        }

        var length = ParseInteger(line, "bulk length");
        if (length == -1 && prefix == (byte)'$')
        {
            return true;
        }

        if (length < 0)
        {
            throw new RedisProtocolException($"negative bulk length {length}");
        }

        if (length > limits.MaxBulkLength)
        {
            throw new RedisProtocolException($"bulk length {length} exceeds the limit of {limits.MaxBulkLength} bytes");
        }

        if (reader.Remaining < length + 2)
        {
            return false;
        }

        if (materialize)
        {
            var bytes = GC.AllocateUninitializedArray<byte>((int)length);
            reader.TryCopyTo(bytes);
            reader.Advance(length);
            if (prefix == (byte)'=')
            {
                // Verbatim strings start with a three-letter format and ':' ("txt:"); callers want the text.
                if (bytes.Length < 4 || bytes[3] != (byte)':')
                {
                    throw new RedisProtocolException("RESP verbatim string without a format prefix");
                }

                bytes = bytes.AsSpan(4).ToArray();
            }

            value = prefix == (byte)'!' ? RespValue.FromError(bytes) : RespValue.FromBulk(bytes);
        }
        else
        {
            reader.Advance(length);
        }

        if (!reader.IsNext("\r\n"u8, advancePast: true))
        {
            throw new RedisProtocolException("bulk string is not followed by CRLF (its declared length is wrong)");
        }

        return true;
    }

    private static bool TryReadAggregate(ref SequenceReader<byte> reader, in RespLimits limits, byte prefix, int depth, bool materialize, out RespValue value)
    {
        value = default;
        if (!TryReadLine(ref reader, limits, out var line))
        {
            return false;
        }

        var count = ParseInteger(line, "element count");
        if (count == -1 && prefix == (byte)'*')
        {
            return true;
        }

        if (count < 0)
        {
            throw new RedisProtocolException($"negative element count {count}");
        }

        if (depth + 1 > limits.MaxDepth)
        {
            throw new RedisProtocolException($"reply nests deeper than {limits.MaxDepth} levels");
        }

        var total = prefix == (byte)'%' ? count * 2 : count;
        if (total > limits.MaxArrayLength)
        {
            throw new RedisProtocolException($"element count {count} exceeds the limit of {limits.MaxArrayLength}");
        }

        if (reader.Remaining < total * MinElementBytes)
        {
            return false;
        }

        var items = materialize ? new RespValue[total] : null;
        for (var i = 0; i < total; i++)
        {
            if (!TryReadValue(ref reader, limits, depth + 1, materialize, out var item))
            {
                return false;
            }

            if (items is not null)
            {
                items[i] = item;
            }
        }

        if (items is not null)
        {
            value = RespValue.FromArray(items, push: prefix == (byte)'>');
        }

        return true;
    }

    private static bool TryReadLine(ref SequenceReader<byte> reader, in RespLimits limits, out ReadOnlySequence<byte> line)
    {
        if (reader.TryReadTo(out line, "\r\n"u8, advancePastDelimiter: true))
        {
            if (line.Length > limits.MaxLineLength)
            {
                throw new RedisProtocolException($"RESP line longer than {limits.MaxLineLength} bytes");
            }

            return true;
        }

        if (reader.Remaining > limits.MaxLineLength)
        {
            throw new RedisProtocolException($"no CRLF within {limits.MaxLineLength} bytes");
        }

        return false;
    }

    /// <summary>Strict decimal: optional '-', 1 to 19 digits, no '+', no spaces, no overflow.</summary>
    internal static long ParseInteger(in ReadOnlySequence<byte> line, string what)
    {
        if (line.Length is 0 or > 20)
        {
            throw new RedisProtocolException($"RESP {what} has {line.Length} characters");
        }

        var span = ToSpan(line, stackalloc byte[20]);
        var negative = span[0] == (byte)'-';
        var digits = negative ? span[1..] : span;
        if (digits.Length == 0)
        {
            throw new RedisProtocolException($"RESP {what} has no digits");
        }

        ulong result = 0;
        foreach (var b in digits)
        {
            var d = (uint)(b - '0');
            if (d > 9)
            {
                throw new RedisProtocolException($"RESP {what} contains a non-digit (0x{b:X2})");
            }

            if (result > (ulong.MaxValue - d) / 10)
            {
                throw new RedisProtocolException($"RESP {what} overflows");
            }

            result = (result * 10) + d;
        }

        if (negative)
        {
            if (result > (ulong)long.MaxValue + 1)
            {
                throw new RedisProtocolException($"RESP {what} overflows");
            }

            return (long)(0 - result);
        }

        if (result > long.MaxValue)
        {
            throw new RedisProtocolException($"RESP {what} overflows");
        }

        return (long)result;
    }

    private static ReadOnlySpan<byte> ToSpan(in ReadOnlySequence<byte> sequence, Span<byte> scratch)
    {
        if (sequence.IsSingleSegment)
        {
            return sequence.FirstSpan;
        }

        if (sequence.Length <= scratch.Length)
        {
            sequence.CopyTo(scratch);
            return scratch[..(int)sequence.Length];
        }

        return sequence.ToArray();
    }
}
