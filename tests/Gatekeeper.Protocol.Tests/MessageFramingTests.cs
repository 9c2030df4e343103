using System.Buffers;
using Gatekeeper.Protocol;

namespace Gatekeeper.Protocol.Tests;

public sealed class MessageFramingTests
{
    [Fact]
    public void WritePrefix_Uncompressed_IsFlagZeroAndBigEndianLength()
    {
        var prefix = new byte[5];
        MessageFraming.WritePrefix(prefix, compressed: false, 0x01020304);
        Assert.Equal(new byte[] { 0, 1, 2, 3, 4 }, prefix);
    }

    [Fact]
    public void WritePrefix_Compressed_IsFlagOne()
    {
        var prefix = new byte[5];
        MessageFraming.WritePrefix(prefix, compressed: true, 7);
        Assert.Equal(new byte[] { 1, 0, 0, 0, 7 }, prefix);
    }

    [Fact]
    public void WritePrefix_NegativeLength_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => MessageFraming.WritePrefix(new byte[5], false, -1));

    [Fact]
    public void WritePrefix_ShortDestination_Throws() =>
        Assert.ThrowsAny<ArgumentException>(() => MessageFraming.WritePrefix(new byte[4], false, 1));

    [Fact]
    public void TryReadPrefix_FiveBytes_ReturnsFlagAndLength()
    {
        var buffer = new ReadOnlySequence<byte>(new byte[] { 1, 0xFF, 0xFF, 0xFF, 0xFF, 42 });
        Assert.True(MessageFraming.TryReadPrefix(buffer, out var flag, out var length));
        Assert.Equal(1, flag);
        Assert.Equal(uint.MaxValue, length);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4)]
    public void TryReadPrefix_FewerThanFiveBytes_ReturnsFalse(int available) =>
        Assert.False(MessageFraming.TryReadPrefix(new ReadOnlySequence<byte>(new byte[available]), out _, out _));

    [Fact]
    public void TryReadPrefix_PrefixSplitAcrossSegments_IsReadWhole()
    {
        var first = new Segment(new byte[] { 0, 0 });
        var last = first.Append(new byte[] { 0 }).Append(new byte[] { 1, 0, 9 });
        var buffer = new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
        Assert.True(MessageFraming.TryReadPrefix(buffer, out var flag, out var length));
        Assert.Equal(0, flag);
        Assert.Equal(256u, length);
    }

    [Fact]
    public void TryReadPrefix_UnknownFlag_IsReturnedForTheCallerToReject()
    {
        var buffer = new ReadOnlySequence<byte>(new byte[] { 2, 0, 0, 0, 0 });
        Assert.True(MessageFraming.TryReadPrefix(buffer, out var flag, out _));
        Assert.Equal(2, flag);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
