using Gatekeeper.Protocol;

namespace Gatekeeper.Protocol.Tests;

public sealed class PercentEncodingTests
{
    [Fact]
    public void Encode_PrintableAscii_IsUnchanged()
    {
        const string Message = "category 'health' is not allowed for recipient \"x\" (rule r1)";
        Assert.Same(Message, PercentEncoding.Encode(Message));
    }

    [Theory]
    [InlineData("100%", "100%25")]
    [InlineData("a\nb", "a%0Ab")]
    [InlineData("\t", "%09")]
    [InlineData("\u007F", "%7F")]
    [InlineData("caf\u00E9", "caf%C3%A9")]
    [InlineData("\u20AC", "%E2%82%AC")]
    [InlineData("\U0001F600", "%F0%9F%98%80")]
    public void Encode_ReservedOrNonAscii_IsPercentEncodedUtf8(string message, string expected) =>
        Assert.Equal(expected, PercentEncoding.Encode(message));

    [Theory]
    [InlineData("")]
    [InlineData("plain")]
    [InlineData("100% sure")]
    [InlineData("%%%")]
    [InlineData("%41 is not A")]
    [InlineData("Grüße, 世界, Ελληνικά, \U0001F600")]
    [InlineData("line1\r\nline2\0end")]
    public void EncodeThenDecode_AnyMessage_RoundTrips(string message) =>
        Assert.Equal(message, PercentEncoding.Decode(PercentEncoding.Encode(message)));

    [Theory]
    [InlineData("%C3%A9", "\u00E9")]
    [InlineData("%c3%a9", "\u00E9")]
    [InlineData("a%20b", "a b")]
    public void Decode_EncodedValue_ReturnsText(string value, string expected) =>
        Assert.Equal(expected, PercentEncoding.Decode(value));

    [Theory]
    [InlineData("%")]
    [InlineData("%4")]
    [InlineData("%G1")]
    [InlineData("50%")]
    [InlineData("50% off")]
    public void Decode_MalformedEscape_IsKeptAsIs(string value) =>
        Assert.Equal(value, PercentEncoding.Decode(value));

    [Fact]
    public void Decode_InvalidUtf8_BecomesReplacementCharacter() =>
        Assert.Equal("a\uFFFDb", PercentEncoding.Decode("a%FFb"));
}
