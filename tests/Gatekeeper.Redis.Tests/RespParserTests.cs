using System.Buffers;
using System.Text;
using Gatekeeper.Redis.Internal;

namespace Gatekeeper.Redis.Tests;

public sealed class RespParserTests
{
    private static readonly RespLimits Limits = RespLimits.Default;

    private static bool TryParse(ReadOnlySequence<byte> bytes, out RespValue value, out long consumed, RespLimits? limits = null)
    {
        var reader = new SequenceReader<byte>(bytes);
        var ok = RespParser.TryParse(ref reader, limits ?? Limits, out value);
        consumed = reader.Consumed;
        return ok;
    }

    private static RespValue Parse(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        Assert.True(TryParse(new ReadOnlySequence<byte>(bytes), out var value, out var consumed), $"incomplete: {text}");
        Assert.Equal(bytes.Length, consumed);
        return value;
    }

    private static RedisProtocolException ParseFails(string text, RespLimits? limits = null) =>
        Assert.Throws<RedisProtocolException>(() => TryParse(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(text)), out _, out _, limits));

    /// <summary>A sequence of one-byte segments, as a slow network could deliver it.</summary>
    private static ReadOnlySequence<byte> Fragmented(byte[] bytes)
    {
        if (bytes.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new Segment(bytes.AsMemory(0, 1), 0);
        var last = first;
        for (var i = 1; i < bytes.Length; i++)
        {
            last = last.Append(bytes.AsMemory(i, 1));
        }

        return new ReadOnlySequence<byte>(first, 0, last, 1);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }

    [Fact]
    public void SimpleString_Ok_IsRecognised()
    {
        var value = Parse("+OK\r\n");

        Assert.Equal(RespType.SimpleString, value.Type);
        Assert.True(value.IsOk);
    }

    [Fact]
    public void Error_Reply_KeepsServerText()
    {
        var value = Parse("-WRONGTYPE Operation against a key\r\n");

        Assert.Equal(RespType.Error, value.Type);
        Assert.Equal("WRONGTYPE Operation against a key", value.GetString());
    }

    [Theory]
    [InlineData(":0\r\n", 0L)]
    [InlineData(":-42\r\n", -42L)]
    [InlineData(":9223372036854775807\r\n", long.MaxValue)]
    [InlineData(":-9223372036854775808\r\n", long.MinValue)]
    public void Integer_ValidDigits_Parses(string text, long expected)
    {
        var value = Parse(text);

        Assert.Equal(RespType.Integer, value.Type);
        Assert.Equal(expected, value.Integer);
    }

    [Fact]
    public void BulkString_WithCrlfInside_CopiesExactBytes()
    {
        var value = Parse("$7\r\nab\r\ncde\r\n");

        Assert.Equal(RespType.BulkString, value.Type);
        Assert.Equal("ab\r\ncde", value.GetString());
    }

    [Fact]
    public void BulkString_Empty_IsEmptyNotNull()
    {
        var value = Parse("$0\r\n\r\n");

        Assert.Equal(RespType.BulkString, value.Type);
        Assert.Empty(value.Bytes!);
    }

    [Theory]
    [InlineData("$-1\r\n")]
    [InlineData("*-1\r\n")]
    [InlineData("_\r\n")]
    public void Null_AllEncodings_AreNull(string text) => Assert.True(Parse(text).IsNull);

    [Fact]
    public void Array_Nested_ParsesAllElements()
    {
        var value = Parse("*3\r\n$7\r\nmessage\r\n*2\r\n:1\r\n$-1\r\n+x\r\n");

        Assert.Equal(RespType.Array, value.Type);
        Assert.Equal(3, value.Items!.Length);
        Assert.Equal("message", value.Items[0].GetString());
        Assert.Equal(1, value.Items[1].Items![0].Integer);
        Assert.True(value.Items[1].Items![1].IsNull);
        Assert.Equal("x", value.Items[2].GetString());
    }

    [Fact]
    public void Resp3Types_AreFoldedIntoResp2Kinds()
    {
        Assert.Equal(1, Parse("#t\r\n").Integer);
        Assert.Equal(0, Parse("#f\r\n").Integer);
        Assert.Equal("3.14", Parse(",3.14\r\n").GetString());
        Assert.Equal("hello", Parse("=9\r\ntxt:hello\r\n").GetString());
        Assert.Equal(RespType.Error, Parse("!3\r\nERR\r\n").Type);
        Assert.Equal(4, Parse("%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n").Items!.Length);
        Assert.Equal(2, Parse("~2\r\n:1\r\n:2\r\n").Items!.Length);
        Assert.Equal(RespType.Push, Parse(">2\r\n+a\r\n+b\r\n").Type);
    }

    [Fact]
    public void TruncatedFrame_EveryPrefix_IsIncompleteAndConsumesNothing()
    {
        var bytes = Encoding.UTF8.GetBytes("*3\r\n$5\r\nhello\r\n:12\r\n*1\r\n+OK\r\n");
        for (var length = 0; length < bytes.Length; length++)
        {
            Assert.False(TryParse(new ReadOnlySequence<byte>(bytes, 0, length), out _, out var consumed), $"prefix of {length} bytes");
            Assert.Equal(0, consumed);
        }

        Assert.True(TryParse(new ReadOnlySequence<byte>(bytes), out var value, out _));
        Assert.Equal(3, value.Items!.Length);
    }

    [Fact]
    public void FragmentedSequence_OneByteSegments_ParsesTwoReplies()
    {
        var sequence = Fragmented(Encoding.UTF8.GetBytes("$11\r\nhello world\r\n:-7\r\n"));
        var reader = new SequenceReader<byte>(sequence);

        Assert.True(RespParser.TryParse(ref reader, Limits, out var first));
        Assert.True(RespParser.TryParse(ref reader, Limits, out var second));

        Assert.Equal("hello world", first.GetString());
        Assert.Equal(-7, second.Integer);
        Assert.Equal(0, reader.Remaining);
    }

    [Fact]
    public void BulkLength_AboveLimit_ThrowsBeforeAllocating()
    {
        var before = GC.GetAllocatedBytesForCurrentThread();

        var error = ParseFails("$2147483648\r\nabc");

        Assert.Contains("exceeds the limit", error.Message, StringComparison.Ordinal);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1024 * 1024);
    }

    [Fact]
    public void BulkLength_HugeWithinLimitButTruncated_IsIncompleteWithoutAllocating()
    {
        var bytes = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes("$500000000\r\nonly a few bytes"));
        var before = GC.GetAllocatedBytesForCurrentThread();

        var complete = TryParse(bytes, out _, out _);

        Assert.False(complete);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1024 * 1024);
    }

    [Fact]
    public void ArrayCount_AboveLimit_Throws()
    {
        var error = ParseFails("*1048577\r\n");

        Assert.Contains("element count", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ArrayCount_HugeButTruncated_IsIncompleteWithoutAllocatingTheArray()
    {
        var text = new StringBuilder("*1000000\r\n");
        for (var i = 0; i < 50_000; i++)
        {
            text.Append(":1\r\n");
        }

        var bytes = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(text.ToString()));
        var before = GC.GetAllocatedBytesForCurrentThread();

        var complete = TryParse(bytes, out _, out _);

        Assert.False(complete);

        // A RespValue[1000000] alone would be tens of megabytes.
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1024 * 1024);
    }

    [Fact]
    public void Nesting_DeeperThanLimit_Throws()
    {
        var text = string.Concat(Enumerable.Repeat("*1\r\n", 17)) + ":1\r\n";

        var error = ParseFails(text);

        Assert.Contains("nests deeper", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nesting_AtLimit_Parses()
    {
        var text = string.Concat(Enumerable.Repeat("*1\r\n", 16)) + ":1\r\n";

        Assert.Equal(RespType.Array, Parse(text).Type);
    }

    [Theory]
    [InlineData("$1a\r\nx\r\n")]
    [InlineData("$\r\n")]
    [InlineData("$-2\r\n")]
    [InlineData("$+1\r\nx\r\n")]
    [InlineData("$ 1\r\nx\r\n")]
    [InlineData(":12x\r\n")]
    [InlineData(":\r\n")]
    [InlineData(":-\r\n")]
    [InlineData(":99999999999999999999\r\n")]
    [InlineData(":-9223372036854775809\r\n")]
    [InlineData("*-5\r\n")]
    [InlineData("*1x\r\n")]
    [InlineData("#x\r\n")]
    [InlineData("_x\r\n")]
    public void Digits_Malformed_Throw(string text) => ParseFails(text);

    [Theory]
    [InlineData("?what\r\n")]
    [InlineData("HTTP/1.1 400 Bad Request\r\n")]
    [InlineData("\0\0\0\0")]
    public void TypeByte_Unknown_Throws(string text)
    {
        var error = ParseFails(text);

        Assert.Contains("unexpected RESP type byte", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BulkString_LongerThanDeclared_Throws()
    {
        var error = ParseFails("$3\r\nabcd\r\n");

        Assert.Contains("CRLF", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Line_WithoutCrlfBeyondLimit_Throws()
    {
        var text = "+" + new string('a', RespLimits.DefaultMaxLineLength + 10);

        var error = ParseFails(text);

        Assert.Contains("CRLF", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Limits_Custom_AreApplied()
    {
        var tight = new RespLimits(MaxBulkLength: 4, MaxArrayLength: 2, MaxDepth: 1, MaxLineLength: 64);

        ParseFails("$5\r\nhello\r\n", tight);
        ParseFails("*3\r\n:1\r\n:1\r\n:1\r\n", tight);
        ParseFails("*1\r\n*1\r\n:1\r\n", tight);
        ParseFails("%2\r\n:1\r\n:1\r\n:1\r\n:1\r\n", tight);
    }

    [Fact]
    public void Writer_Command_EncodesAsArrayOfBulkStrings()
    {
        var buffer = new ArrayBufferWriter<byte>();

        RespWriter.WriteArrayHeader(buffer, 4);
        RespWriter.WriteRaw(buffer, RedisCommands.Set);
        RespWriter.WriteBulk(buffer, "app:", "clé");
        RespWriter.WriteBulk(buffer, [1, 2], [3]);
        RespWriter.WriteBulk(buffer, -15L);

        Assert.Equal("*4\r\n$3\r\nSET\r\n$8\r\napp:clé\r\n$3\r\n\x01\x02\x03\r\n$3\r\n-15\r\n", Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    [Fact]
    public void Writer_LargeValue_SpansSeveralBufferSegments()
    {
        var buffer = new ArrayBufferWriter<byte>(16);
        var value = new byte[100_000];
        value.AsSpan().Fill((byte)'v');

        RespWriter.WriteBulk(buffer, value);

        Assert.True(TryParse(new ReadOnlySequence<byte>(buffer.WrittenMemory), out var parsed, out _));
        Assert.Equal(value, parsed.Bytes);
    }
}
