using Gatekeeper.LoadTests.Http2;

namespace Gatekeeper.LoadTests.Tests;

/// <summary>RFC 7541 Appendix C examples, then malformed blocks.</summary>
public sealed class HpackDecoderTests
{
    private const string Date21 = "Mon, 21 Oct 2013 20:13:21 GMT";
    private const string Date22 = "Mon, 21 Oct 2013 20:13:22 GMT";
    private const string Cookie = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";

    [Fact]
    public void Decode_C2_1_LiteralWithIndexing_AddsEntryToDynamicTable()
    {
        var decoder = new HpackDecoder();

        var fields = Decode(decoder, "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572");

        Assert.Equal([("custom-key", "custom-header")], fields);
        Assert.Equal([("custom-key", "custom-header")], Decode(decoder, "be"));
    }

    [Fact]
    public void Decode_C2_2_LiteralWithoutIndexing_LeavesDynamicTableEmpty()
    {
        var decoder = new HpackDecoder();

        var fields = Decode(decoder, "040c 2f73 616d 706c 652f 7061 7468");

        Assert.Equal([(":path", "/sample/path")], fields);
        Assert.Throws<InvalidDataException>(() => Decode(decoder, "be"));
    }

    [Fact]
    public void Decode_C2_3_LiteralNeverIndexed_LeavesDynamicTableEmpty()
    {
        var decoder = new HpackDecoder();

        var fields = Decode(decoder, "1008 7061 7373 776f 7264 0673 6563 7265 74");

        Assert.Equal([("password", "secret")], fields);
        Assert.Throws<InvalidDataException>(() => Decode(decoder, "be"));
    }

    [Fact]
    public void Decode_C2_4_Indexed_ReturnsStaticEntry()
    {
        Assert.Equal([(":method", "GET")], Decode(new HpackDecoder(), "82"));
    }

    [Fact]
    public void Decode_C3_RequestsWithoutHuffman_ReuseDynamicTable()
    {
        var decoder = new HpackDecoder();

        var first = Decode(decoder, "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d");
        var second = Decode(decoder, "8286 84be 5808 6e6f 2d63 6163 6865");
        var third = Decode(decoder, "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65");

        AssertC3Requests(decoder, first, second, third);
    }

    [Fact]
    public void Decode_C4_RequestsWithHuffman_ReuseDynamicTable()
    {
        var decoder = new HpackDecoder();

        var first = Decode(decoder, "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff");
        var second = Decode(decoder, "8286 84be 5886 a8eb 1064 9cbf");
        var third = Decode(decoder, "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf");

        AssertC3Requests(decoder, first, second, third);
    }

    [Fact]
    public void Decode_C5_ResponsesWithoutHuffman_EvictOldestEntries()
    {
        var decoder = new HpackDecoder(256);

        var first = Decode(decoder,
            "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133" +
            "2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70" +
            "6c65 2e63 6f6d");
        var second = Decode(decoder, "4803 3330 37c1 c0bf");
        var third = Decode(decoder,
            "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d" +
            "54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049" +
            "5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e" +
            "3d31");

        AssertC5Responses(decoder, first, second, third);
    }

    [Fact]
    public void Decode_C6_ResponsesWithHuffman_EvictOldestEntries()
    {
        var decoder = new HpackDecoder(256);

        var first = Decode(decoder,
            "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6" +
            "2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3");
        var second = Decode(decoder, "4883 640e ffc1 c0bf");
        var third = Decode(decoder,
            "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab" +
            "77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f" +
            "9587 3160 65c0 03ed 4ee5 b106 3d50 07");

        AssertC5Responses(decoder, first, second, third);
    }

    [Fact]
    public void Decode_LiteralWithIndexedName_UsesStaticName()
    {
        // 0x5f: incremental indexing with name index 31 (content-type); then a 16-octet raw value.
        var fields = Decode(new HpackDecoder(), "5f10" + Ascii("application/grpc"));

        Assert.Equal([("content-type", "application/grpc")], fields);
    }

    [Fact]
    public void Decode_EntryLargerThanTable_EmptiesTable()
    {
        var decoder = new HpackDecoder(64);
        Decode(decoder, "4001 6101 62"); // a: b, 34 octets

        // x: 32 octets of 'y' is 32 + 1 + 32 = 65 octets, one more than the table holds.
        var fields = Decode(decoder, "4001 7820" + Ascii(new string('y', 32)));

        Assert.Equal([("x", new string('y', 32))], fields);
        Assert.Throws<InvalidDataException>(() => Decode(decoder, "be"));
    }

    [Fact]
    public void Decode_EntryFillingTableExactly_EvictsOlderEntries()
    {
        var decoder = new HpackDecoder(64);
        Decode(decoder, "4001 6101 62"); // a: b, 34 octets

        var fields = Decode(decoder, "4001 781f" + Ascii(new string('y', 31))); // 32 + 1 + 31 = 64 octets

        Assert.Equal([("x", new string('y', 31))], fields);
        Assert.Equal([("x", new string('y', 31))], Decode(decoder, "be"));
        Assert.Throws<InvalidDataException>(() => Decode(decoder, "bf"));
    }

    [Fact]
    public void Decode_SizeUpdateToZero_EmptiesTable()
    {
        var decoder = new HpackDecoder();
        Decode(decoder, "4001 6101 62");

        var fields = Decode(decoder, "2082");

        Assert.Equal([(":method", "GET")], fields);
        Assert.Throws<InvalidDataException>(() => Decode(decoder, "be"));
    }

    [Fact]
    public void Decode_SizeUpdateToMaximum_Accepted()
    {
        // 4096 = 31 + 0x0fe1: 0x3f, then 0xe1 0x1f.
        Assert.Equal([(":method", "GET")], Decode(new HpackDecoder(), "3fe1 1f82"));
    }

    [Fact]
    public void Decode_SizeUpdateAboveMaximum_Throws()
    {
        // 4097 = 31 + 0x0fe2.
        var error = Assert.Throws<InvalidDataException>(() => Decode(new HpackDecoder(), "3fe2 1f"));
        Assert.Contains("4097", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_SizeUpdateAfterField_Throws()
    {
        Assert.Throws<InvalidDataException>(() => Decode(new HpackDecoder(), "8220"));
    }

    [Fact]
    public void Decode_IndexZero_Throws()
    {
        var error = Assert.Throws<InvalidDataException>(() => Decode(new HpackDecoder(), "80"));
        Assert.Contains("index 0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_LiteralNameIndexBeyondTables_Throws()
    {
        Assert.Throws<InvalidDataException>(() => Decode(new HpackDecoder(), "7e01 61")); // name index 62
    }

    [Fact]
    public void Decode_IndexBeyondTables_Throws()
    {
        var decoder = new HpackDecoder();
        Decode(decoder, "4001 6101 62"); // one dynamic entry: index 62

        var error = Assert.Throws<InvalidDataException>(() => Decode(decoder, "bf")); // 63
        Assert.Contains("index 63", error.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => Decode(decoder, "ff 00")); // 127
    }

    [Fact]
    public void Decode_TruncatedInteger_Throws()
    {
        Assert.Throws<InvalidDataException>(() => Decode(new HpackDecoder(), "ff"));
        Assert.Throws<InvalidDataException>(() => Decode(new HpackDecoder(), "ff 80"));
    }

    [Fact]
    public void Decode_IntegerOverflow_Throws()
    {
        Assert.Throws<InvalidDataException>(() => Decode(new HpackDecoder(), "ff ffff ffff 0f")); // 127 + 2^32 - 1
        Assert.Throws<InvalidDataException>(() => Decode(new HpackDecoder(), "ff 8080 8080 8000")); // six continuation octets
    }

    [Fact]
    public void Decode_MissingValue_Throws()
    {
        Assert.Throws<InvalidDataException>(() => Decode(new HpackDecoder(), "4001 61"));
    }

    [Fact]
    public void Decode_StringLengthPastEnd_Throws()
    {
        var error = Assert.Throws<InvalidDataException>(() => Decode(new HpackDecoder(), "0001 6105 6263"));
        Assert.Contains("past the end", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_HuffmanPaddingNotOnes_Throws()
    {
        // 'a' is 00011; 0x18 pads it with 000 instead of 111 (0x1f would be valid).
        Assert.Equal([("a", "a")], Decode(new HpackDecoder(), "0001 6181 1f"));
        var error = Assert.Throws<InvalidDataException>(() => Decode(new HpackDecoder(), "0001 6181 18"));
        Assert.Contains("padding", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_HuffmanPaddingLongerThanSevenBits_Throws()
    {
        // 'a' then 11 bits of ones.
        var error = Assert.Throws<InvalidDataException>(() => Decode(new HpackDecoder(), "0001 6182 1fff"));
        Assert.Contains("padding", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_HuffmanEos_Throws()
    {
        // 32 ones: the 30-bit EOS code completes inside the string.
        var error = Assert.Throws<InvalidDataException>(() => Decode(new HpackDecoder(), "0001 6184 ffff ffff"));
        Assert.Contains("EOS", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HuffmanDecode_EverySymbol_RoundTripsThroughItsCode()
    {
        for (var symbol = 0; symbol < 256; symbol++)
        {
            // Each symbol twice, so that codes also start mid-octet.
            var encoded = HuffmanEncode([(byte)symbol, (byte)symbol]);

            var decoded = HpackHuffman.Decode(encoded);

            Assert.Equal(new string((char)symbol, 2), decoded);
        }
    }

    private static void AssertC3Requests(
        HpackDecoder decoder,
        List<(string Name, string Value)> first,
        List<(string Name, string Value)> second,
        List<(string Name, string Value)> third)
    {
        Assert.Equal(
            [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com")],
            first);
        Assert.Equal(
            [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com"), ("cache-control", "no-cache")],
            second);
        Assert.Equal(
            [(":method", "GET"), (":scheme", "https"), (":path", "/index.html"), (":authority", "www.example.com"), ("custom-key", "custom-value")],
            third);

        // The dynamic table after C.3.3, newest first, and nothing beyond it.
        Assert.Equal(
            [("custom-key", "custom-value"), ("cache-control", "no-cache"), (":authority", "www.example.com")],
            Decode(decoder, "bebf c0"));
        Assert.Throws<InvalidDataException>(() => Decode(decoder, "c1"));
    }

    private static void AssertC5Responses(
        HpackDecoder decoder,
        List<(string Name, string Value)> first,
        List<(string Name, string Value)> second,
        List<(string Name, string Value)> third)
    {
        Assert.Equal(
            [(":status", "302"), ("cache-control", "private"), ("date", Date21), ("location", "https://www.example.com")],
            first);

        // ":status: 302" was evicted to make room for ":status: 307".
        Assert.Equal(
            [(":status", "307"), ("cache-control", "private"), ("date", Date21), ("location", "https://www.example.com")],
            second);
        Assert.Equal(
            [(":status", "200"), ("cache-control", "private"), ("date", Date22), ("location", "https://www.example.com"), ("content-encoding", "gzip"), ("set-cookie", Cookie)],
            third);

        // The dynamic table after C.5.3 (215 octets), newest first, and nothing beyond it.
        Assert.Equal(
            [("set-cookie", Cookie), ("content-encoding", "gzip"), ("date", Date22)],
            Decode(decoder, "bebf c0"));
        Assert.Throws<InvalidDataException>(() => Decode(decoder, "c1"));
    }

    private static List<(string Name, string Value)> Decode(HpackDecoder decoder, string hex)
    {
        var headers = new List<(string Name, string Value)>();
        decoder.Decode(Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal)), headers);
        return headers;
    }

    private static string Ascii(string text) => Convert.ToHexString(System.Text.Encoding.ASCII.GetBytes(text));

    private static byte[] HuffmanEncode(byte[] octets)
    {
        var output = new List<byte>();
        ulong bits = 0;
        var count = 0;
        foreach (var octet in octets)
        {
            var (code, length) = HpackHuffman.GetCode(octet);
            bits = (bits << length) | code;
            count += length;
            while (count >= 8)
            {
                count -= 8;
                output.Add((byte)(bits >> count));
            }
        }

        if (count > 0)
        {
            // Pad with the most significant bits of EOS, all ones.
            output.Add((byte)((bits << (8 - count)) | ((1u << (8 - count)) - 1)));
        }

        return [.. output];
    }
}
