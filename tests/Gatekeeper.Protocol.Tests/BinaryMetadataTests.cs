using Gatekeeper.Protocol;

namespace Gatekeeper.Protocol.Tests;

public sealed class BinaryMetadataTests
{
    [Theory]
    [InlineData("trace-bin", true)]
    [InlineData("TRACE-BIN", true)]
    [InlineData("-bin", true)]
    [InlineData("trace", false)]
    [InlineData("bin", false)]
    [InlineData("trace-bin-x", false)]
    public void IsBinaryKey_Key_ChecksSuffix(string key, bool expected) =>
        Assert.Equal(expected, BinaryMetadata.IsBinaryKey(key));

    [Fact]
    public void Encode_Bytes_IsPaddedBase64() => Assert.Equal("AQI=", BinaryMetadata.Encode([1, 2]));

    [Theory]
    [InlineData("AQI=", new byte[] { 1, 2 })]
    [InlineData("AQI", new byte[] { 1, 2 })]
    [InlineData("AQ==", new byte[] { 1 })]
    [InlineData("AQ", new byte[] { 1 })]
    [InlineData("AQID", new byte[] { 1, 2, 3 })]
    [InlineData("", new byte[0])]
    [InlineData("/+8=", new byte[] { 0xFF, 0xEF })]
    public void TryDecode_PaddedOrUnpadded_ReturnsBytes(string value, byte[] expected)
    {
        Assert.True(BinaryMetadata.TryDecode(value, out var bytes));
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData("A")]
    [InlineData("AQIDB")]
    [InlineData("A===")]
    [InlineData("AQ!=")]
    [InlineData("AQI\u00E9")]
    public void TryDecode_NotBase64_ReturnsFalse(string value)
    {
        Assert.False(BinaryMetadata.TryDecode(value, out var bytes));
        Assert.Empty(bytes);
    }

    [Fact]
    public void EncodeThenDecode_AllByteValues_RoundTrips()
    {
        var all = new byte[256];
        for (var i = 0; i < all.Length; i++)
        {
            all[i] = (byte)i;
        }

        Assert.True(BinaryMetadata.TryDecode(BinaryMetadata.Encode(all).TrimEnd('='), out var bytes));
        Assert.Equal(all, bytes);
    }
}
