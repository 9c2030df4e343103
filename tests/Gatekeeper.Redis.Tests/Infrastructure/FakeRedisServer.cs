using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gatekeeper.Redis.Tests.Infrastructure;

/// <summary>
/// A tiny TCP server that reads RESP commands (with its own minimal reader, independent of the client's parser)
/// and answers each with crafted bytes. <c>null</c> from the script means "stay silent"; an empty chunk means
/// "close the connection here". Accepts reconnects.
/// </summary>
public sealed class FakeRedisServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Func<string, byte[][]?> _script;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _clients = [];
    private readonly Task _acceptLoop;
    private int _connections;

    /// <param name="script">Answers for commands other than PING (PING always gets +PONG unless <paramref name="pingReply"/> is set).</param>
    /// <param name="pingReply">Overrides the answer to PING (the client's hand-shake).</param>
    public FakeRedisServer(Func<string, byte[][]?> script, string? pingReply = null)
    {
        _script = command => command == "PING" ? [Encoding.ASCII.GetBytes(pingReply ?? "+PONG\r\n")] : script(command);
        _listener.Start();
        _acceptLoop = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public int Connections => Volatile.Read(ref _connections);

    public static byte[][] Reply(params string[] chunks) => [.. chunks.Select(c => Encoding.ASCII.GetBytes(c))];

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                lock (_clients)
                {
                    _clients.Add(client);
                }

                Interlocked.Increment(ref _connections);
                _ = Task.Run(() => ServeAsync(client));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException
            || (ex is InvalidOperationException && _stop.IsCancellationRequested))
        {
            // Stopped. A client accepted just before DisposeAsync sends the loop back to a listener that is already
            // stopped, and TcpListener says so with InvalidOperationException ("Not listening"; seen in CI).
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        try
        {
            var stream = client.GetStream();
            var input = new AsyncByteReader(stream);
            while (!_stop.IsCancellationRequested)
            {
                var command = await ReadCommandNameAsync(input);
                if (command is null)
                {
                    return;
                }

                var chunks = _script(command);
                if (chunks is null)
                {
                    continue;
                }

                for (var i = 0; i < chunks.Length; i++)
                {
                    if (chunks[i].Length == 0)
                    {
                        client.Close();
                        return;
                    }

                    if (i > 0)
                    {
                        await Task.Delay(50);
                    }

                    await stream.WriteAsync(chunks[i]);
                    await stream.FlushAsync();
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or SocketException or InvalidOperationException)
        {
            // The client went away.
        }
    }

    /// <summary>Reads "*N\r\n" then N bulk strings; returns the first, upper-cased. Null at end of stream.</summary>
    private static async Task<string?> ReadCommandNameAsync(AsyncByteReader input)
    {
        var header = await input.ReadLineAsync();
        if (header is null)
        {
            return null;
        }

        if (header.Length == 0 || header[0] != '*')
        {
            throw new InvalidOperationException("not a RESP command: " + header);
        }

        var count = int.Parse(header.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture);
        string? name = null;
        for (var i = 0; i < count; i++)
        {
            var line = await input.ReadLineAsync() ?? throw new IOException("truncated command");
            var length = int.Parse(line.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture);
            var data = await input.ReadBytesAsync(length + 2);
            name ??= Encoding.UTF8.GetString(data, 0, length).ToUpperInvariant();
        }

        return name;
    }

    /// <summary>Asynchronous byte reads, so that idle fake connections hold no thread-pool thread.</summary>
    private sealed class AsyncByteReader(Stream stream)
    {
        private readonly byte[] _buffer = new byte[4096];
        private int _start;
        private int _end;

        private async Task<bool> FillAsync()
        {
            _start = 0;
            _end = await stream.ReadAsync(_buffer);
            return _end > 0;
        }

        public async Task<string?> ReadLineAsync()
        {
            var line = new StringBuilder();
            while (true)
            {
                if (_start == _end && !await FillAsync())
                {
                    return null;
                }

                var b = _buffer[_start++];
                if (b == '\n')
                {
                    return line.ToString().TrimEnd('\r');
                }

                line.Append((char)b);
            }
        }

        public async Task<byte[]> ReadBytesAsync(int count)
        {
            var result = new byte[count];
            for (var i = 0; i < count; i++)
            {
                if (_start == _end && !await FillAsync())
                {
                    throw new IOException("truncated command");
                }

                result[i] = _buffer[_start++];
            }

            return result;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        lock (_clients)
        {
            foreach (var client in _clients)
            {
                client.Dispose();
            }
        }

        await _acceptLoop;
        _stop.Dispose();
    }
}
