using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatekeeper.Security;

namespace Gatekeeper.Tests.Security;

/// <summary>
/// The coalescer between HTTP/2 and the server's SslStream, over a real TLS connection on loopback: the server's
/// socket writes can be held (as a busy socket would hold them) and the client counts the TLS records it receives.
/// </summary>
public sealed class TlsRecordCoalescerTests : IAsyncLifetime
{
    private const int ApplicationData = 23;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly List<Exception> _writeFailures = [];
    private TcpClient _clientSocket = null!;
    private Socket _serverSocket = null!;
    private HeldStream _serverWire = null!;
    private TappedStream _clientWire = null!;
    private SslStream _server = null!;
    private SslStream _client = null!;
    private TlsRecordCoalescer _coalescer = null!;

    public async Task InitializeAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        _clientSocket = new TcpClient();
        var connect = _clientSocket.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        _serverSocket = await listener.AcceptSocketAsync();
        await connect;

        _serverWire = new HeldStream(new NetworkStream(_serverSocket, ownsSocket: false));
        _clientWire = new TappedStream(_clientSocket.GetStream());
        _server = new SslStream(_serverWire);
        _client = new SslStream(_clientWire, leaveInnerStreamOpen: false, (_, _, _, _) => true);
        using var certificate = SelfSigned();
        await Task.WhenAll(
            _server.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate }),
            _client.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" }));

        _coalescer = new TlsRecordCoalescer(new Unused(), _server, MemoryPool<byte>.Shared, 64 * 1024, _writeFailures.Add);
        // TLS 1.3 session tickets follow the handshake: one round trip first, so that only our data is counted.
        await WriteAndFlushAsync(Frame(255, 10));
        await ReadExactlyAsync(10);
        _clientWire.Reset();
    }

    public async Task DisposeAsync()
    {
        _serverWire.Release();
        await _coalescer.DrainAsync(Timeout);
        _client.Dispose();
        _server.Dispose();
        _clientSocket.Dispose();
        _serverSocket.Dispose();
    }

    [Fact]
    public async Task Flushes_WhileTheSocketIsBusy_GoOutTogetherInOneRecord()
    {
        _serverWire.Hold();
        await WriteAndFlushAsync(Frame(0, 100));
        // The pump is now inside its write of the first response, as it would be behind a busy socket.
        await _serverWire.Blocked.WaitAsync(Timeout);
        for (byte i = 1; i < 50; i++)
        {
            await WriteAndFlushAsync(Frame(i, 100));
        }

        _serverWire.Release();
        var received = await ReadExactlyAsync(50 * 100);

        Assert.Equal(Enumerable.Range(0, 50).SelectMany(i => Frame((byte)i, 100)), received);
        // Without the coalescer every flush is a record of its own: 50.
        Assert.Equal(2, _clientWire.Records(ApplicationData));
    }

    [Fact]
    public async Task OneLargeFlush_IsCutIntoFullSizeRecords()
    {
        var data = new byte[100_000];
        Random.Shared.NextBytes(data);
        for (var offset = 0; offset < data.Length; offset += 1000)
        {
            // Many small writes into pool blocks, one flush: the pump gathers them into 16 KiB records.
            _coalescer.Output.Write(data.AsSpan(offset, 1000));
        }

        await _coalescer.Output.FlushAsync();
        var received = await ReadExactlyAsync(data.Length);

        Assert.Equal(data, received);
        Assert.Equal((data.Length + TlsRecordCoalescer.MaxRecordPayload - 1) / TlsRecordCoalescer.MaxRecordPayload, _clientWire.Records(ApplicationData));
    }

    [Fact]
    public async Task Drain_AfterTheLastFlush_EverythingReachesThePeer()
    {
        await WriteAndFlushAsync(Frame(1, 300));
        await WriteAndFlushAsync(Frame(2, 300));
        await _coalescer.Output.CompleteAsync();

        Assert.True(await _coalescer.DrainAsync(Timeout));
        Assert.Equal(Frame(1, 300).Concat(Frame(2, 300)), await ReadExactlyAsync(600));
        Assert.Empty(_writeFailures);
    }

    [Fact]
    public async Task Drain_PeerNotReading_GivesUpAfterTheTimeout()
    {
        _serverWire.Hold();
        await WriteAndFlushAsync(Frame(1, 300));
        await _serverWire.Blocked.WaitAsync(Timeout);

        Assert.False(await _coalescer.DrainAsync(TimeSpan.FromMilliseconds(200)));
    }

    [Fact]
    public async Task WriteFails_ConnectionIsToldAndLaterFlushesSeeTheEnd()
    {
        _serverWire.Fail = true;
        await WriteAndFlushAsync(Frame(1, 300));
        await _serverWire.Failed.WaitAsync(Timeout);

        // The pump completes its reader when a write fails: HTTP/2's next flush sees a closed output.
        var deadline = DateTime.UtcNow + Timeout;
        FlushResult flush;
        do
        {
            await Task.Delay(10);
            _coalescer.Output.Write(Frame(2, 10));
            flush = await _coalescer.Output.FlushAsync();
        }
        while (!flush.IsCompleted && DateTime.UtcNow < deadline);

        Assert.True(flush.IsCompleted);
        Assert.IsAssignableFrom<IOException>(Assert.Single(_writeFailures));
    }

    private static byte[] Frame(byte value, int length) => Enumerable.Repeat(value, length).ToArray();

    private static X509Certificate2 SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
    }

    private async Task WriteAndFlushAsync(byte[] frame)
    {
        _coalescer.Output.Write(frame);
        await _coalescer.Output.FlushAsync();
    }

    private async Task<byte[]> ReadExactlyAsync(int count)
    {
        var buffer = new byte[count];
        using var cts = new CancellationTokenSource(Timeout);
        await _client.ReadExactlyAsync(buffer, cts.Token);
        return buffer;
    }

    /// <summary>Kestrel's decrypted input, which the coalescer only passes through.</summary>
    private sealed class Unused : IDuplexPipe
    {
        private readonly Pipe _pipe = new();

        public PipeReader Input => _pipe.Reader;

        public PipeWriter Output => _pipe.Writer;
    }

    /// <summary>Passes everything to the stream underneath; the two below change one direction each.</summary>
    private abstract class ForwardingStream(Stream inner) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override void Flush() => inner.Flush();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>The server's socket: writes can be held (a socket that is busy) or made to fail (a socket that is gone).</summary>
    private sealed class HeldStream(Stream inner) : ForwardingStream(inner)
    {
        private TaskCompletionSource _open = Opened();

        public SemaphoreSlim Blocked { get; } = new(0);

        public SemaphoreSlim Failed { get; } = new(0);

        public bool Fail { get; set; }

        public void Hold() => _open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release() => _open.TrySetResult();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Fail)
            {
                Failed.Release();
                throw new IOException("The socket is gone.");
            }

            if (!_open.Task.IsCompleted)
            {
                Blocked.Release();
                await _open.Task.ConfigureAwait(false);
            }

            await base.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                Blocked.Dispose();
                Failed.Dispose();
            }

            base.Dispose(disposing);
        }

        private static TaskCompletionSource Opened()
        {
            var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            open.SetResult();
            return open;
        }
    }

    /// <summary>The client's socket: keeps the raw bytes it reads, so that the TLS records can be counted.</summary>
    private sealed class TappedStream(Stream inner) : ForwardingStream(inner)
    {
        private readonly MemoryStream _seen = new();

        public void Reset()
        {
            lock (_seen)
            {
                _seen.SetLength(0);
            }
        }

        /// <summary>Whole records of <paramref name="contentType"/> read since <see cref="Reset"/>.</summary>
        public int Records(byte contentType)
        {
            byte[] bytes;
            lock (_seen)
            {
                bytes = _seen.ToArray();
            }

            var count = 0;
            for (var i = 0; i + 5 <= bytes.Length;)
            {
                var length = (bytes[i + 3] << 8) | bytes[i + 4];
                if (bytes[i] == contentType && i + 5 + length <= bytes.Length)
                {
                    count++;
                }

                i += 5 + length;
            }

            return count;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await base.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            lock (_seen)
            {
                _seen.Write(buffer.Span[..read]);
            }

            return read;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _seen.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
