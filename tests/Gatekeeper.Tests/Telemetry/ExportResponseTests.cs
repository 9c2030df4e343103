using Gatekeeper.Telemetry.Otlp;
using Google.Protobuf;

namespace Gatekeeper.Tests.Telemetry;

public sealed class ExportResponseTests
{
    [Fact]
    public void TryReadPartialSuccess_RejectedSpansAndMessage_ReadsBoth()
    {
        // ExportTraceServiceResponse { partial_success { rejected_spans: 3, error_message: "too old" } }, plus an unknown field.
        var response = Encode(output =>
        {
            output.WriteTag(9, WireFormat.WireType.Varint);
            output.WriteUInt64(1);
            output.WriteTag(1, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(Encode(inner =>
            {
                inner.WriteTag(1, WireFormat.WireType.Varint);
                inner.WriteInt64(3);
                inner.WriteTag(2, WireFormat.WireType.LengthDelimited);
                inner.WriteString("too old");
            }));
        });

        Assert.True(ExportResponse.TryReadPartialSuccess(response.Span, out var rejected, out var message));
        Assert.Equal(3, rejected);
        Assert.Equal("too old", message);
    }

    [Fact]
    public void TryReadPartialSuccess_EmptyOrTruncated_ReadsNothing()
    {
        Assert.False(ExportResponse.TryReadPartialSuccess([], out _, out _));
        Assert.False(ExportResponse.TryReadPartialSuccess([0x0a, 0x05, 0x08], out _, out _));
    }

    private static ByteString Encode(Action<CodedOutputStream> write)
    {
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer);
        write(output);
        output.Flush();
        return ByteString.CopyFrom(buffer.ToArray());
    }
}
