using System.Buffers;
using System.IO.Pipelines;
using Gatekeeper.Protocol;
using Gatekeeper.Transport;
using Gatekeeper.Transport.Internal;
using Gatekeeper.V1;
using Google.Protobuf;

namespace Gatekeeper.Tests.Transport;

public sealed class MessageReaderTests
{
    private const int Max = 1024;

    private static byte[] Frame(byte[] payload, byte flag = 0)
    {
        var frame = new byte[5 + payload.Length];
        frame[0] = flag;
        MessageFraming.WritePrefix(frame, compressed: false, payload.Length);
        frame[0] = flag;
        payload.CopyTo(frame, 5);
        return frame;
    }

    private static readonly byte[] Request = new DecideRequest { Category = "education", Recipient = "police", Purpose = "social_care" }.ToByteArray();

    private static bool Parse(byte[] body, bool completed, out DecideRequest message, string? encoding = null, int max = Max) =>
        MessageReader.TryParse(new ReadOnlySequence<byte>(body), completed, DecideRequest.Parser, encoding, max, out message);

    private static RpcException ParseFails(byte[] body, bool completed = true, string? encoding = null, int max = Max) =>
        Assert.Throws<RpcException>(() => Parse(body, completed, out _, encoding, max));

    [Fact]
    public void TryParse_OneMessageAndEndOfStream_ReturnsTheMessage()
    {
        Assert.True(Parse(Frame(Request), completed: true, out var message));
        Assert.Equal("education", message.Category);
        Assert.Equal("police", message.Recipient);
    }

    [Fact]
    public void TryParse_WholeMessageButStreamStillOpen_WaitsForEndOfStream()
    {
        Assert.False(Parse(Frame(Request), completed: false, out _));
    }

    [Fact]
    public void TryParse_MessageSplitAcrossSegments_ParsesWithoutCopyingFirst()
    {
        var frame = Frame(Request);
        var first = new Segment(frame.AsMemory(0, 3));
        var last = first.Append(frame.AsMemory(3, 4)).Append(frame.AsMemory(7));
        var sequence = new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);

        Assert.True(MessageReader.TryParse(sequence, true, DecideRequest.Parser, null, Max, out var message));
        Assert.Equal("social_care", message.Purpose);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(10)]
    public void TryParse_PartialData_AsksForMore(int length)
    {
        var frame = Frame(Request);
        Assert.False(Parse(frame[..Math.Min(length, frame.Length)], completed: false, out _));
    }

    [Fact]
    public void TryParse_NoMessage_IsUnimplemented()
    {
        Assert.Equal(StatusCode.Unimplemented, ParseFails([]).StatusCode);
    }

    [Fact]
    public void TryParse_StreamEndsInsidePrefix_IsInternal()
    {
        Assert.Equal(StatusCode.Internal, ParseFails([0, 0, 0]).StatusCode);
    }

    [Fact]
    public void TryParse_StreamEndsInsideMessage_IsInternal()
    {
        var frame = Frame(Request);
        var ex = ParseFails(frame[..^2]);
        Assert.Equal(StatusCode.Internal, ex.StatusCode);
        Assert.Contains("Incomplete message", ex.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_TwoMessages_IsUnimplemented()
    {
        var frame = Frame(Request);
        Assert.Equal(StatusCode.Unimplemented, ParseFails([.. frame, .. frame]).StatusCode);
    }

    [Fact]
    public void TryParse_PrefixOverLimit_IsResourceExhaustedBeforeTheBodyArrives()
    {
        byte[] prefixOnly = [0, 0xFF, 0xFF, 0xFF, 0xF0];
        var ex = ParseFails(prefixOnly, completed: false);
        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [Fact]
    public void TryParse_MessageExactlyAtLimit_IsAccepted()
    {
        var frame = Frame(Request);
        Assert.True(Parse(frame, completed: true, out _, max: Request.Length));
        Assert.Equal(StatusCode.ResourceExhausted, ParseFails(frame, max: Request.Length - 1).StatusCode);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(0x80)]
    [InlineData(0xFF)]
    public void TryParse_UndefinedFlag_IsInternal(byte flag)
    {
        Assert.Equal(StatusCode.Internal, ParseFails(Frame(Request, flag)).StatusCode);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("identity")]
    public void TryParse_CompressedFlagWithoutEncoding_IsInternal(string? encoding)
    {
        Assert.Equal(StatusCode.Internal, ParseFails(Frame(Request, 1), encoding: encoding).StatusCode);
    }

    [Fact]
    public void TryParse_CompressedWithUnknownEncoding_IsUnimplementedAndNamesWhatIsAccepted()
    {
        var ex = ParseFails(Frame(Request, 1), encoding: "snappy");
        Assert.Equal(StatusCode.Unimplemented, ex.StatusCode);
        Assert.Contains(ex.Headers!, h => h.Key == "grpc-accept-encoding" && h.Value.Contains("gzip", StringComparison.Ordinal));
    }

    [Fact]
    public void TryParse_Gzip_Decompresses()
    {
        Assert.True(Parse(Frame(MessageCompression.Compress(Request), 1), completed: true, out var message, encoding: "gzip"));
        Assert.Equal("education", message.Category);
    }

    [Fact]
    public void TryParse_GzipBombOverLimit_IsResourceExhausted()
    {
        var bomb = MessageCompression.Compress(new byte[64 * 1024]);
        Assert.True(bomb.Length < Max);
        Assert.Equal(StatusCode.ResourceExhausted, ParseFails(Frame(bomb, 1), encoding: "gzip").StatusCode);
    }

    [Fact]
    public void TryParse_FlagOneWithBytesThatAreNotGzip_IsInternal()
    {
        Assert.Equal(StatusCode.Internal, ParseFails(Frame([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 1), encoding: "gzip").StatusCode);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF })]
    [InlineData(new byte[] { 0x0A, 0x10, 0x41 })]
    [InlineData(new byte[] { 0x0F, 0x00 })]
    public void TryParse_GarbageProtobuf_IsInternal(byte[] garbage)
    {
        var ex = ParseFails(Frame(garbage));
        Assert.Equal(StatusCode.Internal, ex.StatusCode);
        Assert.Equal("Failed to deserialize request message.", ex.Detail);
    }

    [Fact]
    public void TryParse_EmptyMessage_IsAValidDefaultMessage()
    {
        Assert.True(Parse(Frame([]), completed: true, out var message));
        Assert.Equal(string.Empty, message.Category);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ReadSingleAsync_CallerResetsTheStream_IsCancelledNotAHandlerFailure(bool duringAdvance)
    {
        // Kestrel throws IOException("The client reset the request stream.") from ReadAsync or from AdvanceTo,
        // depending on when the RST_STREAM lands (seen in CI from AdvanceTo with grpcio's 1 ms deadlines).
        var reader = new ResetPipeReader(Frame(Request)[..3], throwOnAdvance: duringAdvance);
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            MessageReader.ReadSingleAsync(reader, DecideRequest.Parser, null, Max, CancellationToken.None).AsTask());
        Assert.Equal(StatusCode.Cancelled, ex.StatusCode);
    }

    /// <summary>Hands out a partial body once, then behaves like Kestrel's body reader after the caller's RST_STREAM.</summary>
    private sealed class ResetPipeReader(byte[] partial, bool throwOnAdvance) : PipeReader
    {
        private bool _read;

        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
        {
            if (_read)
            {
                throw new IOException("The client reset the request stream.");
            }

            _read = true;
            return new(new ReadResult(new ReadOnlySequence<byte>(partial), isCanceled: false, isCompleted: false));
        }

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
        {
            if (throwOnAdvance)
            {
                throw new IOException("The client reset the request stream.");
            }
        }

        public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

        public override bool TryRead(out ReadResult result) => throw new NotSupportedException();

        public override void CancelPendingRead() { }

        public override void Complete(Exception? exception = null) { }
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
