using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Gatekeeper.Protocol;

namespace Gatekeeper.LoadTests.Http2;

/// <summary>
/// A finished call on a <see cref="Http2Connection"/>: its tag, and 0 (OK), a gRPC code, or
/// <see cref="RunResult.ClientFailure"/> with the connection's failure as the reason.
/// </summary>
internal readonly record struct CallEnd(long Tag, int Status, string? Reason = null);

/// <summary>
/// One HTTP/2 connection driven by the raw engine's single thread: unary gRPC calls written as pre-encoded frames
/// into an output buffer and flushed with non-blocking sends; responses parsed from non-blocking reads. Only what
/// a unary gRPC client needs (RFC 9113): SETTINGS and PING are acknowledged, flow-control windows are kept in both
/// directions, and MAX_CONCURRENT_STREAMS is honoured by holding calls back. Not thread-safe.
/// </summary>
internal sealed class Http2Connection : IDisposable
{
    private const int FrameHeaderLength = 9;
    private const int DefaultWindow = 65_535;
    private const int OurStreamWindow = 1 << 20;
    private const int ReplenishAt = 1 << 19;

    private const byte Data = 0x0, Headers = 0x1, RstStream = 0x3, Settings = 0x4, PushPromise = 0x5, Ping = 0x6, GoAway = 0x7, WindowUpdate = 0x8, Continuation = 0x9;
    private const byte EndStream = 0x1, Ack = 0x1, EndHeaders = 0x4, Padded = 0x8, Priority = 0x20;

    private static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    private readonly Socket _socket;
    private readonly HpackDecoder _decoder = new();
    private readonly Dictionary<int, OpenCall> _streams = [];
    private readonly Queue<(long Tag, byte[] HeaderBlock, byte[] Message)> _held = new();
    private readonly List<(string Name, string Value)> _fields = [];
    private byte[] _out = new byte[64 * 1024];
    private int _outLength;
    private readonly byte[] _in = new byte[256 * 1024];
    private int _inStart;
    private int _inEnd;
    private byte[] _headerBlock = new byte[16 * 1024];
    private int _headerBlockLength;
    private int _headerBlockStream;
    private byte _headerBlockFlags;
    private int _nextStreamId = 1;
    private long _sendWindow = DefaultWindow;
    private long _peerMaxStreams = long.MaxValue;
    private int _received;

    private Http2Connection(Socket socket)
    {
        _socket = socket;
        // Preface, our SETTINGS (no push, a 1 MiB window per stream) and a connection window to match.
        Append(Preface);
        WriteFrameHeader(12, Settings, 0, 0);
        WriteSetting(0x2, 0);
        WriteSetting(0x4, OurStreamWindow);
        WriteWindowUpdate(0, (1 << 30) - DefaultWindow);
    }

    /// <summary>Calls started and not yet ended, including those held back by the server's stream limit.</summary>
    public int Outstanding => _streams.Count + _held.Count;

    /// <summary>Why the connection can no longer be used, or null while it can.</summary>
    public string? Failure { get; private set; }

    public Socket Socket => _socket;

    public bool WantsToWrite => _outLength > 0;

    /// <summary>Connects; a connection that could not be opened comes back with its <see cref="Failure"/> set.</summary>
    public static Http2Connection Open(Uri target)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var connection = new Http2Connection(socket);
        try
        {
            socket.Connect(new DnsEndPoint(target.Host, target.Port));
            socket.Blocking = false;
            connection.Flush();
        }
        catch (SocketException ex)
        {
            connection.Fail($"cannot connect to {target.Authority}: {ex.Message}");
        }

        return connection;
    }

    /// <summary>
    /// The header block of every call to <paramref name="path"/>: literal fields, never added to the server's
    /// table, so one block serves every call.
    /// </summary>
    public static byte[] RequestHeaderBlock(Uri target, string path, TimeSpan deadline)
    {
        var block = new List<byte> { 0x83, 0x86 }; // :method POST, :scheme http (static table 3 and 6)
        HpackEncoder.AppendLiteral(block, 4, path); // :path
        HpackEncoder.AppendLiteral(block, 1, target.Authority); // :authority
        HpackEncoder.AppendLiteral(block, 31, GrpcProtocol.ContentType); // content-type
        HpackEncoder.AppendLiteral(block, "te", "trailers");
        HpackEncoder.AppendLiteral(block, GrpcProtocol.TimeoutHeader, GrpcTimeout.Format(deadline));
        return [.. block];
    }

    /// <summary>Starts a call: written now, or held until the server's stream limit or send window allows it.</summary>
    public void Start(long tag, byte[] headerBlock, byte[] message)
    {
        if (_held.Count > 0 || !CanSend(message.Length))
        {
            _held.Enqueue((tag, headerBlock, message));
            return;
        }

        Write(tag, headerBlock, message);
    }

    /// <summary>Sends what is buffered, as far as the socket takes it now.</summary>
    public void Flush()
    {
        var sent = 0;
        while (sent < _outLength && Failure is null)
        {
            var n = _socket.Send(_out.AsSpan(sent, _outLength - sent), SocketFlags.None, out var error);
            if (error == SocketError.WouldBlock)
            {
                break;
            }

            if (error != SocketError.Success)
            {
                Fail($"send failed: {error}");
                break;
            }

            sent += n;
        }

        _out.AsSpan(sent, _outLength - sent).CopyTo(_out);
        _outLength -= sent;
    }

    /// <summary>Reads what has arrived and reports every call it ends.</summary>
    public void Receive(List<CallEnd> ended)
    {
        while (Failure is null)
        {
            if (_inStart > 0)
            {
                _in.AsSpan(_inStart, _inEnd - _inStart).CopyTo(_in);
                _inEnd -= _inStart;
                _inStart = 0;
            }

            var n = _socket.Receive(_in.AsSpan(_inEnd), SocketFlags.None, out var error);
            if (error == SocketError.WouldBlock)
            {
                break;
            }

            if (error != SocketError.Success || n == 0)
            {
                Fail(n == 0 && error == SocketError.Success ? "the server closed the connection" : $"receive failed: {error}");
                break;
            }

            _inEnd += n;
            ParseFrames(ended);
        }

        if (Failure is not null)
        {
            EndAll(ended);
        }

        while (_held.Count > 0 && Failure is null && CanSend(_held.Peek().Message.Length))
        {
            var (tag, block, message) = _held.Dequeue();
            Write(tag, block, message);
        }
    }

    /// <summary>Ends calls older than <paramref name="oldestAllowed"/> (Stopwatch ticks) as DEADLINE_EXCEEDED, resetting their streams.</summary>
    public void ExpireOlderThan(long oldestAllowed, List<CallEnd> ended)
    {
        List<int>? expired = null;
        foreach (var (id, stream) in _streams)
        {
            if (stream.Started < oldestAllowed)
            {
                (expired ??= []).Add(id);
            }
        }

        foreach (var id in expired ?? [])
        {
            ended.Add(new CallEnd(_streams[id].Tag, (int)StatusCode.DeadlineExceeded));
            _streams.Remove(id);
            WriteFrameHeader(4, RstStream, 0, id);
            WriteUInt32(0x8); // CANCEL
        }
    }

    public void Dispose() => _socket.Dispose();

    private bool CanSend(int messageLength) =>
        _streams.Count < _peerMaxStreams && _sendWindow >= messageLength + GrpcProtocol.MessagePrefixLength;

    private void Write(long tag, byte[] headerBlock, byte[] message)
    {
        var id = _nextStreamId;
        _nextStreamId += 2;
        _streams[id] = new OpenCall(tag, System.Diagnostics.Stopwatch.GetTimestamp());
        WriteFrameHeader(headerBlock.Length, Headers, EndHeaders, id);
        Append(headerBlock);
        var length = GrpcProtocol.MessagePrefixLength + message.Length;
        WriteFrameHeader(length, Data, EndStream, id);
        EnsureOut(length);
        _out[_outLength] = 0; // not compressed
        BinaryPrimitives.WriteUInt32BigEndian(_out.AsSpan(_outLength + 1), (uint)message.Length);
        _outLength += GrpcProtocol.MessagePrefixLength;
        Append(message);
        _sendWindow -= length;
    }

    private void ParseFrames(List<CallEnd> ended)
    {
        while (Failure is null && _inEnd - _inStart >= FrameHeaderLength)
        {
            var header = _in.AsSpan(_inStart, FrameHeaderLength);
            var length = (header[0] << 16) | (header[1] << 8) | header[2];
            if (length > _in.Length - FrameHeaderLength)
            {
                Fail($"a frame of {length} bytes is larger than this client's buffer (it advertises the default 16,384)");
                return;
            }

            if (_inEnd - _inStart < FrameHeaderLength + length)
            {
                return;
            }

            var type = header[3];
            var flags = header[4];
            var streamId = (int)(BinaryPrimitives.ReadUInt32BigEndian(header[5..]) & 0x7FFF_FFFF);
            var payload = _in.AsSpan(_inStart + FrameHeaderLength, length);
            _inStart += FrameHeaderLength + length;
            if (_headerBlockStream != 0 && type != Continuation)
            {
                Fail("a header block was interrupted by another frame");
                return;
            }

            switch (type)
            {
                case Data: OnData(streamId, flags, length, ended); break;
                case Headers: OnHeaders(streamId, flags, payload, ended); break;
                case Continuation: OnContinuation(streamId, flags, payload, ended); break;
                case RstStream: OnReset(streamId, payload, ended); break;
                case Settings: OnSettings(flags, payload); break;
                case Ping:
                    if ((flags & Ack) == 0)
                    {
                        WriteFrameHeader(8, Ping, Ack, 0);
                        Append(payload);
                    }

                    break;
                case GoAway: Fail("the server sent GOAWAY"); break;
                case WindowUpdate:
                    if (streamId == 0)
                    {
                        _sendWindow += BinaryPrimitives.ReadUInt32BigEndian(payload) & 0x7FFF_FFFF;
                    }

                    break;
                case PushPromise: Fail("the server pushed although this client disabled push"); break;
                default: break; // Unknown frame types are ignored (RFC 9113 section 4.1).
            }
        }
    }

    private void OnData(int streamId, byte flags, int length, List<CallEnd> ended)
    {
        // The connection window counts every DATA byte, padding included; streams end before theirs runs out.
        _received += length;
        if (_received >= ReplenishAt)
        {
            WriteWindowUpdate(0, _received);
            _received = 0;
        }

        if ((flags & EndStream) != 0 && _streams.Remove(streamId, out var stream))
        {
            ended.Add(new CallEnd(stream.Tag, (int)StatusCode.Internal)); // a gRPC response ends with trailers, never with DATA
        }
    }

    private void OnHeaders(int streamId, byte flags, ReadOnlySpan<byte> payload, List<CallEnd> ended)
    {
        var start = 0;
        var end = payload.Length;
        if ((flags & Padded) != 0)
        {
            if (payload.IsEmpty)
            {
                Fail("a padded HEADERS frame without its pad length");
                return;
            }

            end -= payload[0];
            start = 1;
        }

        if ((flags & Priority) != 0)
        {
            start += 5;
        }

        if (start > end)
        {
            Fail("a HEADERS frame's padding is longer than the frame");
            return;
        }

        _headerBlockLength = 0;
        _headerBlockFlags = flags;
        AppendHeaderBlock(payload[start..end]);
        if ((flags & EndHeaders) != 0)
        {
            OnHeaderBlock(streamId, ended);
        }
        else
        {
            _headerBlockStream = streamId;
        }
    }

    private void OnContinuation(int streamId, byte flags, ReadOnlySpan<byte> payload, List<CallEnd> ended)
    {
        if (streamId != _headerBlockStream)
        {
            Fail("a CONTINUATION frame without the HEADERS it continues");
            return;
        }

        AppendHeaderBlock(payload);
        if ((flags & EndHeaders) != 0)
        {
            _headerBlockStream = 0;
            OnHeaderBlock(streamId, ended);
        }
    }

    private void OnHeaderBlock(int streamId, List<CallEnd> ended)
    {
        _fields.Clear();
        try
        {
            // Every block is decoded, the stream's or not: the decoder's table must follow the server's.
            _decoder.Decode(_headerBlock.AsSpan(0, _headerBlockLength), _fields);
        }
        catch (InvalidDataException ex)
        {
            Fail($"bad header block: {ex.Message}");
            return;
        }

        if (!_streams.TryGetValue(streamId, out var stream))
        {
            return;
        }

        string? httpStatus = null, grpcStatus = null, contentType = null;
        foreach (var (name, value) in _fields)
        {
            switch (name)
            {
                case ":status": httpStatus = value; break;
                case "content-type": contentType = value; break;
                case GrpcProtocol.StatusTrailer: grpcStatus = value; break;
            }
        }

        var endsStream = (_headerBlockFlags & EndStream) != 0;
        if (grpcStatus is not null)
        {
            // Trailers, or Trailers-Only: the gRPC status wins over the HTTP status.
            End(streamId, stream, int.TryParse(grpcStatus, NumberStyles.None, CultureInfo.InvariantCulture, out var code) && code <= (int)StatusCode.Unauthenticated ? code : (int)StatusCode.Unknown, ended);
        }
        else if (httpStatus is not null && httpStatus != "200")
        {
            End(streamId, stream, int.TryParse(httpStatus, NumberStyles.None, CultureInfo.InvariantCulture, out var http) ? (int)HttpStatusMapping.FromHttpStatus(http) : (int)StatusCode.Unknown, ended);
        }
        else if (endsStream || (httpStatus is not null && !GrpcProtocol.IsGrpcContentType(contentType)))
        {
            End(streamId, stream, (int)StatusCode.Unknown, ended); // trailers without a status, or not a gRPC response
        }

        // Otherwise these were the response headers: the message and the trailers follow.
    }

    private void End(int streamId, OpenCall stream, int status, List<CallEnd> ended)
    {
        _streams.Remove(streamId);
        ended.Add(new CallEnd(stream.Tag, status));
    }

    private void OnReset(int streamId, ReadOnlySpan<byte> payload, List<CallEnd> ended)
    {
        if (payload.Length == 4 && _streams.TryGetValue(streamId, out var stream))
        {
            // REFUSED_STREAM: never processed, safe to retry (UNAVAILABLE); CANCEL: CANCELLED; anything else: INTERNAL.
            var code = BinaryPrimitives.ReadUInt32BigEndian(payload);
            End(streamId, stream, code switch { 0x7 => (int)StatusCode.Unavailable, 0x8 => (int)StatusCode.Cancelled, _ => (int)StatusCode.Internal }, ended);
        }
    }

    private void OnSettings(byte flags, ReadOnlySpan<byte> payload)
    {
        if ((flags & Ack) != 0)
        {
            return;
        }

        for (var i = 0; i + 6 <= payload.Length; i += 6)
        {
            var id = BinaryPrimitives.ReadUInt16BigEndian(payload[i..]);
            var value = BinaryPrimitives.ReadUInt32BigEndian(payload[(i + 2)..]);
            if (id == 0x3)
            {
                _peerMaxStreams = value;
            }
        }

        WriteFrameHeader(0, Settings, Ack, 0);
    }

    private void Fail(string reason) => Failure ??= reason;

    private void EndAll(List<CallEnd> ended)
    {
        foreach (var stream in _streams.Values)
        {
            ended.Add(new CallEnd(stream.Tag, RunResult.ClientFailure, Failure));
        }

        while (_held.TryDequeue(out var held))
        {
            ended.Add(new CallEnd(held.Tag, RunResult.ClientFailure, Failure));
        }

        _streams.Clear();
    }

    private void AppendHeaderBlock(ReadOnlySpan<byte> fragment)
    {
        if (_headerBlockLength + fragment.Length > _headerBlock.Length)
        {
            Array.Resize(ref _headerBlock, Math.Max(_headerBlock.Length * 2, _headerBlockLength + fragment.Length));
        }

        fragment.CopyTo(_headerBlock.AsSpan(_headerBlockLength));
        _headerBlockLength += fragment.Length;
    }

    private void WriteFrameHeader(int length, byte type, byte flags, int streamId)
    {
        EnsureOut(FrameHeaderLength);
        var header = _out.AsSpan(_outLength, FrameHeaderLength);
        header[0] = (byte)(length >> 16);
        header[1] = (byte)(length >> 8);
        header[2] = (byte)length;
        header[3] = type;
        header[4] = flags;
        BinaryPrimitives.WriteUInt32BigEndian(header[5..], (uint)streamId);
        _outLength += FrameHeaderLength;
    }

    private void WriteSetting(ushort id, uint value)
    {
        EnsureOut(6);
        BinaryPrimitives.WriteUInt16BigEndian(_out.AsSpan(_outLength), id);
        BinaryPrimitives.WriteUInt32BigEndian(_out.AsSpan(_outLength + 2), value);
        _outLength += 6;
    }

    private void WriteWindowUpdate(int streamId, int increment)
    {
        WriteFrameHeader(4, WindowUpdate, 0, streamId);
        WriteUInt32((uint)increment);
    }

    private void WriteUInt32(uint value)
    {
        EnsureOut(4);
        BinaryPrimitives.WriteUInt32BigEndian(_out.AsSpan(_outLength), value);
        _outLength += 4;
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        EnsureOut(bytes.Length);
        bytes.CopyTo(_out.AsSpan(_outLength));
        _outLength += bytes.Length;
    }

    private void EnsureOut(int more)
    {
        if (_outLength + more > _out.Length)
        {
            Array.Resize(ref _out, Math.Max(_out.Length * 2, _outLength + more));
        }
    }

    private sealed record OpenCall(long Tag, long Started);
}
