using System.Buffers.Binary;
using System.Net.Sockets;
using Gatekeeper.LoadTests.Http2;

namespace Gatekeeper.FunctionalTests.Security;

/// <summary>How one raw HTTP/2 exchange ended, as a gRPC client would see it.</summary>
public sealed record RawOutcome(string Kind, int? GrpcStatus, string? HttpStatus, string Detail)
{
    public override string ToString() => $"{Kind} grpc-status={GrpcStatus?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"} :status={HttpStatus ?? "-"} {Detail}";
}

/// <summary>
/// A deliberately minimal HTTP/2 client over a socket for sending what no well-behaved client sends: it writes
/// any frame bytes it is given and reads the server's frames until the stream or the connection ends. HPACK:
/// requests use literal fields without indexing (no Huffman); it announces a header table size of 0, and decodes
/// responses with the load tool's decoder (load-tests/Gatekeeper.LoadTests/Http2, linked into this project).
/// </summary>
public sealed class RawHttp2Connection : IDisposable
{
    public const byte Data = 0x0, Headers = 0x1, Priority = 0x2, RstStream = 0x3, Settings = 0x4, PushPromise = 0x5, Ping = 0x6, GoAway = 0x7, WindowUpdate = 0x8, Continuation = 0x9;
    public const byte EndStream = 0x1, Ack = 0x1, EndHeaders = 0x4, Padded = 0x8;

    private static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    private readonly HpackDecoder _decoder = new();
    private readonly List<(string Name, string Value)> _fields = [];
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly byte[] _buffer = new byte[1 << 16];
    private int _start;
    private int _end;

    private RawHttp2Connection(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
    }

    public static async Task<RawHttp2Connection> OpenAsync(int port, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port), cancellationToken);
        var connection = new RawHttp2Connection(socket);
        var hello = new List<byte>(Preface);
        // SETTINGS_HEADER_TABLE_SIZE = 0, SETTINGS_ENABLE_PUSH = 0.
        hello.AddRange(Frame(Settings, 0, 0, [0, 1, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0]));
        await connection.SendAsync([.. hello], cancellationToken);
        return connection;
    }

    public static byte[] Frame(byte type, byte flags, int streamId, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[9 + payload.Length];
        frame[0] = (byte)(payload.Length >> 16);
        frame[1] = (byte)(payload.Length >> 8);
        frame[2] = (byte)payload.Length;
        frame[3] = type;
        frame[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(5), streamId & int.MaxValue);
        payload.CopyTo(frame.AsSpan(9));
        return frame;
    }

    /// <summary>An HPACK header block of literal fields without indexing.</summary>
    public static byte[] HeaderBlock(IEnumerable<(string Name, string Value)> headers)
    {
        var block = new List<byte>();
        foreach (var (name, value) in headers)
        {
            HpackEncoder.AppendLiteral(block, name, value);
        }

        return [.. block];
    }

    public async Task SendAsync(byte[] bytes, CancellationToken cancellationToken) => await _stream.WriteAsync(bytes, cancellationToken);

    public void ShutdownSend()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            // Already reset by the server: the read side reports how it ended.
        }
    }

    /// <summary>Reads until stream <paramref name="streamId"/> ends, the connection ends, or the time is up ("hang").</summary>
    public async Task<RawOutcome> ReadOutcomeAsync(int streamId, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        string? httpStatus = null;
        List<byte>? block = null;
        byte blockFlags = 0;
        try
        {
            while (true)
            {
                var (type, flags, id, payload) = await ReadFrameAsync(cts.Token);
                switch (type)
                {
                    case Settings when (flags & Ack) == 0:
                        await SendAsync(Frame(Settings, Ack, 0, []), cts.Token);
                        break;
                    case Ping when (flags & Ack) == 0:
                        await SendAsync(Frame(Ping, Ack, 0, payload), cts.Token);
                        break;
                    case GoAway:
                        var code = payload.Length >= 8 ? BinaryPrimitives.ReadUInt32BigEndian(payload.AsSpan(4)) : 0;
                        return new RawOutcome("goaway", null, httpStatus, $"error={code}");
                    case RstStream when id == streamId:
                        var rst = payload.Length >= 4 ? BinaryPrimitives.ReadUInt32BigEndian(payload) : 0;
                        return new RawOutcome("rst", null, httpStatus, $"error={rst}");
                    case Headers when id == streamId:
                        block = [.. HeaderPayload(flags, payload)];
                        blockFlags = flags;
                        break;
                    case Continuation when id == streamId && block is not null:
                        block.AddRange(payload);
                        blockFlags |= (byte)(flags & EndHeaders);
                        break;
                }

                if (block is not null && (blockFlags & EndHeaders) != 0)
                {
                    var fields = Decode([.. block]);
                    httpStatus ??= fields.FirstOrDefault(f => f.Name == ":status").Value;
                    var end = (blockFlags & EndStream) != 0;
                    block = null;
                    if (end)
                    {
                        var grpcStatus = fields.FirstOrDefault(f => f.Name == "grpc-status").Value;
                        return grpcStatus is not null && int.TryParse(grpcStatus, System.Globalization.CultureInfo.InvariantCulture, out var status)
                            ? new RawOutcome("status", status, httpStatus, fields.FirstOrDefault(f => f.Name == "grpc-message").Value ?? "")
                            : new RawOutcome("no-grpc-status", null, httpStatus, string.Join(", ", fields.Select(f => f.Name + "=" + f.Value)));
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            return new RawOutcome("hang", null, httpStatus, $"nothing ended the stream within {timeout.TotalSeconds} s");
        }
        catch (Exception ex) when (ex is IOException or SocketException or EndOfStreamException)
        {
            return new RawOutcome("closed", null, httpStatus, ex.GetType().Name);
        }
    }

    public void Dispose()
    {
        _stream.Dispose();
        _socket.Dispose();
    }

    private static ReadOnlySpan<byte> HeaderPayload(byte flags, byte[] payload)
    {
        var span = payload.AsSpan();
        if ((flags & Padded) != 0 && span.Length > 0)
        {
            int pad = span[0];
            span = span[1..];
            span = pad <= span.Length ? span[..^pad] : [];
        }

        if ((flags & 0x20) != 0 && span.Length >= 5)
        {
            span = span[5..];
        }

        return span;
    }

    private async Task<(byte Type, byte Flags, int StreamId, byte[] Payload)> ReadFrameAsync(CancellationToken cancellationToken)
    {
        await FillAsync(9, cancellationToken);
        var header = _buffer.AsSpan(_start, 9);
        int length = (header[0] << 16) | (header[1] << 8) | header[2];
        byte type = header[3], flags = header[4];
        int id = BinaryPrimitives.ReadInt32BigEndian(header[5..]) & int.MaxValue;
        _start += 9;
        if (length > _buffer.Length - 16)
        {
            throw new IOException($"frame of {length} bytes is larger than this client reads");
        }

        await FillAsync(length, cancellationToken);
        var payload = _buffer.AsSpan(_start, length).ToArray();
        _start += length;
        return (type, flags, id, payload);
    }

    private async Task FillAsync(int count, CancellationToken cancellationToken)
    {
        if (_end - _start >= count)
        {
            return;
        }

        Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
        _end -= _start;
        _start = 0;
        while (_end < count)
        {
            int read = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
            if (read == 0)
            {
                throw new EndOfStreamException();
            }

            _end += read;
        }
    }

    // Every block on the connection goes through the one decoder, in order (it holds the connection's table).
    private List<(string Name, string Value)> Decode(byte[] block)
    {
        _fields.Clear();
        _decoder.Decode(block, _fields);
        return _fields;
    }
}
