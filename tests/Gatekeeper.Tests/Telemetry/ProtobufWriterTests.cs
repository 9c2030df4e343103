using Gatekeeper.Telemetry.Otlp;
using Google.Protobuf;

namespace Gatekeeper.Tests.Telemetry;

/// <summary>The writer's output read back by Google.Protobuf's own reader.</summary>
public sealed class ProtobufWriterTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(127)]
    [InlineData(128)]
    [InlineData(20_000)]
    [InlineData(300_000)]
    public void BeginEndMessage_AnyLength_ReadsBackWithThatLength(int size)
    {
        var writer = new ProtobufWriter(16);
        var message = writer.BeginMessage(7);
        writer.Raw(new byte[size]);
        writer.EndMessage(message);
        writer.Varint(8, 42);

        var input = new CodedInputStream(writer.Written.ToArray());
        Assert.Equal(WireFormat.MakeTag(7, WireFormat.WireType.LengthDelimited), input.ReadTag());
        Assert.Equal(size, input.ReadBytes().Length);
        Assert.Equal(WireFormat.MakeTag(8, WireFormat.WireType.Varint), input.ReadTag());
        Assert.Equal(42UL, input.ReadUInt64());
        Assert.True(input.IsAtEnd);
    }

    [Theory]
    [InlineData("")]
    [InlineData("gatekeeper.v1.Gatekeeper/Decide")]
    [InlineData("exactly forty-two characters, all of them!")]
    [InlineData("forty-three characters, one over the limit!")]
    [InlineData("ünïcödé 子ども 🙂 in a short one")]
    [InlineData("a long value with multi-byte characters past the one-byte length: ééééééééééééééééééééééééééééééééééééééééééééé")]
    public void String_AnyText_ReadsBackTheSame(string text)
    {
        var writer = new ProtobufWriter(8);
        writer.String(1, text);

        var input = new CodedInputStream(writer.Written.ToArray());
        Assert.Equal(WireFormat.MakeTag(1, WireFormat.WireType.LengthDelimited), input.ReadTag());
        Assert.Equal(text, input.ReadString());
        Assert.True(input.IsAtEnd);
    }

    [Fact]
    public void FixedAndVarintFields_ReadBackTheSame()
    {
        var writer = new ProtobufWriter(8);
        writer.Fixed64(1, 1_764_000_000_123_456_789UL);
        writer.Fixed32(16, 0x301);
        writer.Double(4, -2.5);
        writer.Varint(3, unchecked((ulong)-7L));
        writer.HexId(2, "00f067aa0ba902b7");

        var input = new CodedInputStream(writer.Written.ToArray());
        input.ReadTag();
        Assert.Equal(1_764_000_000_123_456_789UL, input.ReadFixed64());
        Assert.Equal(WireFormat.MakeTag(16, WireFormat.WireType.Fixed32), input.ReadTag());
        Assert.Equal(0x301U, input.ReadFixed32());
        input.ReadTag();
        Assert.Equal(-2.5, input.ReadDouble());
        input.ReadTag();
        Assert.Equal(-7L, input.ReadInt64());
        input.ReadTag();
        Assert.Equal(Convert.FromHexString("00f067aa0ba902b7"), input.ReadBytes().ToByteArray());
        Assert.True(input.IsAtEnd);
    }

    [Fact]
    public void Reset_WithOffset_LeavesRoomInFrontAndTruncateDropsTheTail()
    {
        var writer = new ProtobufWriter(4);
        writer.Reset(5);
        writer.Varint(1, 1);
        var mark = writer.Length;
        writer.String(2, "dropped");
        writer.Truncate(mark);

        Assert.Equal(7, writer.Length);
        Assert.Equal(new byte[] { 0x08, 0x01 }, writer.Written[5..].ToArray());
    }
}
