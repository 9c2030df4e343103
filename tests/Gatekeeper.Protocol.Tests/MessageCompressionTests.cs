using System.Buffers;
using Gatekeeper.Protocol;

namespace Gatekeeper.Protocol.Tests;

public sealed class MessageCompressionTests
{
    [Theory]
    [InlineData("gzip", true)]
    [InlineData("identity", true)]
    [InlineData("deflate", false)]
    [InlineData("GZIP", false)]
    [InlineData("", false)]
    public void IsSupported_Encoding_OnlyGzipAndIdentity(string encoding, bool expected) =>
        Assert.Equal(expected, MessageCompression.IsSupported(encoding));

    [Fact]
    public void CompressThenDecompress_Payload_RoundTrips()
    {
        var payload = new byte[10_000];
        new Random(1).NextBytes(payload.AsSpan(0, 5_000));
        var compressed = MessageCompression.Compress(payload);
        Assert.Equal(payload, MessageCompression.Decompress(new ReadOnlySequence<byte>(compressed), payload.Length));
    }

    [Fact]
    public void Decompress_OutputOverLimit_ReturnsNull()
    {
        var compressed = MessageCompression.Compress(new byte[1_000_000]);
        Assert.True(compressed.Length < 10_000);
        Assert.Null(MessageCompression.Decompress(new ReadOnlySequence<byte>(compressed), 999_999));
    }

    [Fact]
    public void Decompress_NotGzip_ThrowsInvalidData() =>
        Assert.Throws<InvalidDataException>(() => MessageCompression.Decompress(new ReadOnlySequence<byte>([1, 2, 3, 4, 5, 6]), 100));
}
