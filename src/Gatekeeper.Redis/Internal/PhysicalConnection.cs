using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.Redis.Internal;

/// <summary>
/// One socket to Redis. Callers append commands to an in-memory pipe under a short lock (so bytes and the
/// FIFO of <see cref="PendingReply"/> stay in the same order); a write loop drains the pipe to the socket,
/// which batches concurrent commands into few writes; a read loop parses replies and completes the FIFO head.
/// Any failure (I/O error, EOF, protocol error, a command past its timeout) breaks the whole connection once:
/// afterwards replies could not be matched to commands, so every pending command fails and the owner reconnects.
/// </summary>
internal sealed class PhysicalConnection : IAsyncDisposable
{
    private const int CoalesceBufferSize = 64 * 1024;

    private readonly Lock _writeLock = new();
    private readonly ConcurrentQueue<PendingReply> _pending = new();
    private readonly Pipe _output = new(new PipeOptions(pauseWriterThreshold: 0, resumeWriterThreshold: 0, useSynchronizationContext: false));
    private readonly TaskCompletionSource<Exception> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Stream _stream;
    private readonly PipeReader _input;
    private readonly RespLimits _limits;
    private readonly TimeSpan _commandTimeout;
    private readonly int _maxPending;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Action<RespValue>? _pushHandler;
    private readonly string _endpoint;
    private ITimer? _timeoutTimer;
    private Exception? _failure;
    private int _pendingCount;
    private int _broken;
    private Task _readLoop = Task.CompletedTask;
    private Task _writeLoop = Task.CompletedTask;

    private PhysicalConnection(Stream stream, RedisConnectionOptions options, Action<RespValue>? pushHandler, TimeProvider time, ILogger logger)
    {
        _stream = stream;
        _input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 16 * 1024, minimumReadSize: 4 * 1024, leaveOpen: true));
        _limits = RespLimits.From(options);
        _commandTimeout = options.CommandTimeout;
        _maxPending = options.MaxPendingCommands;
        _time = time;
        _logger = logger;
        _pushHandler = pushHandler;
        _endpoint = options.Host + ":" + options.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Completes (with the reason) when the connection has broken; never faults.</summary>
    public Task<Exception> Completion => _completion.Task;

    public bool IsBroken => Volatile.Read(ref _broken) != 0;

    public int PendingCount => Volatile.Read(ref _pendingCount);

    public string EndPoint => _endpoint;

    /// <summary>TCP connect, optional TLS, then AUTH / SELECT / PING. The token carries the connect timeout.</summary>
    public static async Task<PhysicalConnection> ConnectAsync(
        RedisConnectionOptions options, ConnectionKind kind, Action<RespValue>? pushHandler, TimeProvider time, ILogger logger, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream? stream = null;
        try
        {
            EndPoint target = IPAddress.TryParse(options.Host, out var address)
                ? new IPEndPoint(address, options.Port)
                : new DnsEndPoint(options.Host, options.Port);
            await socket.ConnectAsync(target, cancellationToken).ConfigureAwait(false);
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            stream = new NetworkStream(socket, ownsSocket: true);
            if (options.Ssl)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                await ssl.AuthenticateAsClientAsync(
                    new SslClientAuthenticationOptions
                    {
                        TargetHost = options.SslHost ?? options.Host,
                        RemoteCertificateValidationCallback = options.CertificateValidation,
                    },
                    cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            if (stream is not null)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }

            socket.Dispose();
            throw;
        }

        var connection = new PhysicalConnection(stream, options, pushHandler, time, logger);
        connection.Start();
        try
        {
            await connection.HandshakeAsync(options, kind, cancellationToken).ConfigureAwait(false);
            connection.StartTimeoutChecks();
        }
        catch (Exception ex)
        {
            connection.Break(ex as RedisException ?? new RedisConnectionException("hand-shake with " + connection._endpoint + " failed: " + ex.Message, ex));
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return connection;
    }

    private async Task HandshakeAsync(RedisConnectionOptions options, ConnectionKind kind, CancellationToken cancellationToken)
    {
        // Pipelined: AUTH, SELECT and PING go out together and cost one round trip.
        Task<RespValue>? auth = null;
        Task<RespValue>? select = null;
        if (options.Password is not null)
        {
            auth = options.User is null
                ? SendArgs("AUTH", ["AUTH", options.Password])
                : SendArgs("AUTH", ["AUTH", options.User, options.Password]);
        }

        if (kind == ConnectionKind.Interactive && options.DefaultDatabase != 0)
        {
            select = SendArgs("SELECT", ["SELECT", options.DefaultDatabase.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }

        var ping = SendArgs("PING", ["PING"]);
        if (auth is not null)
        {
            try
            {
                await auth.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (RedisServerException ex)
            {
                throw new RedisConnectionException($"authentication to {_endpoint} failed: {ex.ServerMessage}", ex);
            }
        }

        if (select is not null)
        {
            try
            {
                await select.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (RedisServerException ex)
            {
                throw new RedisConnectionException($"SELECT {options.DefaultDatabase} on {_endpoint} failed: {ex.ServerMessage}", ex);
            }
        }

        var pong = await ping.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (pong.Type != RespType.SimpleString || !pong.BytesEqual("PONG"u8))
        {
            throw new RedisProtocolException($"{_endpoint} answered PING with {pong}; is it a Redis server?");
        }
    }

    /// <summary>
    /// One timer per connection instead of one per command: the FIFO head is always the oldest command. Started
    /// after the hand-shake, which the connect timeout governs (the first connection also pays for JIT warm-up).
    /// </summary>
    private void StartTimeoutChecks()
    {
        var period = TimeSpan.FromTicks(Math.Clamp(_commandTimeout.Ticks / 10, TimeSpan.TicksPerMillisecond * 10, TimeSpan.TicksPerSecond));
        lock (_writeLock)
        {
            if (_failure is null)
            {
                _timeoutTimer = _time.CreateTimer(static state => ((PhysicalConnection)state!).CheckTimeout(), this, period, period);
            }
        }
    }

    private void Start()
    {
        _readLoop = Task.Run(ReadLoopAsync);
        _writeLoop = Task.Run(WriteLoopAsync);
    }

    /// <summary>Queues a command. Never throws: failures come back as a faulted task.</summary>
    public Task<RespValue> SendAsync<TState>(string command, in TState state, RespCommandWriter<TState> write)
    {
        var pending = new PendingReply(command, _time.GetTimestamp());
        Exception? writeFailure = null;
        lock (_writeLock)
        {
            if (_failure is not null)
            {
                return Task.FromException<RespValue>(new RedisConnectionException($"the connection to {_endpoint} is broken ({_failure.Message}); {command} was not sent", _failure));
            }

            if (_pendingCount >= _maxPending)
            {
                return Task.FromException<RespValue>(new RedisConnectionException(
                    $"{_pendingCount} commands already wait for replies from {_endpoint} (MaxPendingCommands); {command} was not sent"));
            }

            Interlocked.Increment(ref _pendingCount);
            _pending.Enqueue(pending);
            try
            {
                write(_output.Writer, state);

                // Never waits: the pipe has no pause threshold (the pending-count bound limits it instead).
                var flush = _output.Writer.FlushAsync();
                if (flush.IsCompleted)
                {
                    flush.GetAwaiter().GetResult();
                }
                else
                {
                    _ = flush.AsTask();
                }
            }
            catch (Exception ex)
            {
                writeFailure = ex;
            }
        }

        if (writeFailure is not null)
        {
            // A half-written command leaves the stream unusable.
            Break(new RedisConnectionException($"encoding {command} failed: {writeFailure.Message}", writeFailure));
        }

        return pending.Task;
    }

    /// <summary>Sends a command given as strings (hand-shake, tests, rare admin commands).</summary>
    public Task<RespValue> SendArgs(string command, string[] args) =>
        SendAsync(command, args, static (IBufferWriter<byte> writer, in string[] a) =>
        {
            RespWriter.WriteArrayHeader(writer, a.Length);
            foreach (var arg in a)
            {
                RespWriter.WriteBulk(writer, null, arg);
            }
        });

    /// <summary>Breaks the connection because a reply was well-formed but not what the command can answer; the FIFO is suspect.</summary>
    public RedisProtocolException Unexpected(string command, in RespValue reply)
    {
        var error = new RedisProtocolException($"{_endpoint} answered {command} with an unexpected {reply}");
        Break(error);
        return error;
    }

    /// <summary>
    /// Tears the connection down once; fails every pending command. <paramref name="culprit"/> (the command that
    /// timed out or got a malformed reply) fails with <paramref name="reason"/> itself, the others with a
    /// <see cref="RedisConnectionException"/> that wraps it.
    /// </summary>
    public void Break(Exception reason, PendingReply? culprit = null)
    {
        if (Interlocked.Exchange(ref _broken, 1) != 0)
        {
            return;
        }

        ITimer? timer;
        lock (_writeLock)
        {
            _failure = reason;
            _output.Writer.Complete();
            timer = _timeoutTimer;
        }

        timer?.Dispose();
        _output.Reader.CancelPendingRead();
        try
        {
            // Unblocks the read loop (and a write stuck on a full socket buffer).
            _stream.Dispose();
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or SocketException)
        {
            // Already gone: nothing left to release.
        }

        while (_pending.TryDequeue(out var pending))
        {
            Interlocked.Decrement(ref _pendingCount);
            if (ReferenceEquals(pending, culprit))
            {
                pending.TrySetException(reason);
            }
            else
            {
                pending.TrySetException(new RedisConnectionException(
                    $"the connection to {_endpoint} was lost before {pending.Command} was answered ({reason.Message}); its outcome is unknown", reason));
            }
        }

        _completion.TrySetResult(reason);
    }

    private void CheckTimeout()
    {
        if (_pending.TryPeek(out var head) && _time.GetElapsedTime(head.StartTimestamp) >= _commandTimeout)
        {
            RedisLog.CommandTimedOut(_logger, head.Command, _endpoint, (long)_commandTimeout.TotalMilliseconds, PendingCount);
            Break(
                new RedisTimeoutException(
                    $"{head.Command} got no reply from {_endpoint} within {(long)_commandTimeout.TotalMilliseconds} ms; the connection is being re-established"),
                head);
        }
    }

    private async Task ReadLoopAsync()
    {
        Exception? error;
        try
        {
            while (true)
            {
                var result = await _input.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                var consumed = ProcessReplies(buffer);
                _input.AdvanceTo(consumed, buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    throw new RedisConnectionException($"{_endpoint} closed the connection");
                }
            }
        }
        catch (Exception ex)
        {
            error = ex;
        }

        await _input.CompleteAsync().ConfigureAwait(false);
        PendingReply? culprit = null;
        if (error is RedisProtocolException)
        {
            // The command waiting at the head is the one the bad bytes were meant to answer: it gets the real reason.
            RedisLog.ProtocolError(_logger, _endpoint, error.Message);
            _pending.TryPeek(out culprit);
        }

        Break(error as RedisException ?? new RedisConnectionException($"lost the connection to {_endpoint}: {error.Message}", error), culprit);
    }

    private SequencePosition ProcessReplies(in ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        while (RespParser.TryParse(ref reader, _limits, out var value))
        {
            Dispatch(value);
        }

        if (reader.Remaining > _limits.MaxBufferedReply)
        {
            throw new RedisProtocolException($"an incomplete reply from {_endpoint} exceeds {_limits.MaxBufferedReply} bytes");
        }

        return reader.Position;
    }

    private void Dispatch(in RespValue value)
    {
        if (_pushHandler is not null && IsMessagePush(value))
        {
            _pushHandler(value);
            return;
        }

        if (value.Type == RespType.Push)
        {
            // RESP3 out-of-band data answers no command (never sent to a RESP2 client; tolerated).
            return;
        }

        if (!_pending.TryDequeue(out var pending))
        {
            throw new RedisProtocolException($"{_endpoint} sent a reply ({value}) to no command");
        }

        Interlocked.Decrement(ref _pendingCount);
        if (value.Type == RespType.Error)
        {
            pending.TrySetException(new RedisServerException(value.GetString() ?? string.Empty));
        }
        else
        {
            pending.TrySetResult(value);
        }
    }

    private static bool IsMessagePush(in RespValue value) =>
        value.Type is RespType.Array or RespType.Push
        && value.Items!.Length >= 3
        && (value.Items[0].BytesEqual(RedisCommands.MessageKind) || value.Items[0].BytesEqual(RedisCommands.PatternMessageKind));

    private async Task WriteLoopAsync()
    {
        var reader = _output.Reader;
        byte[]? coalesce = null;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                if (buffer.IsSingleSegment)
                {
                    await _stream.WriteAsync(buffer.First).ConfigureAwait(false);
                }
                else if (!buffer.IsEmpty)
                {
                    // Many small segments would be many send() calls (or TLS records): copy them into one.
                    coalesce ??= ArrayPool<byte>.Shared.Rent(CoalesceBufferSize);
                    var remaining = buffer;
                    while (!remaining.IsEmpty)
                    {
                        var chunk = remaining.Slice(0, Math.Min(remaining.Length, coalesce.Length));
                        chunk.CopyTo(coalesce);
                        await _stream.WriteAsync(coalesce.AsMemory(0, (int)chunk.Length)).ConfigureAwait(false);
                        remaining = remaining.Slice(chunk.End);
                    }
                }

                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception ex)
        {
            Break(ex as RedisException ?? new RedisConnectionException($"could not write to {_endpoint}: {ex.Message}", ex));
        }
        finally
        {
            if (coalesce is not null)
            {
                ArrayPool<byte>.Shared.Return(coalesce);
            }

            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Break(new RedisConnectionException($"the connection to {_endpoint} was closed by the client"));
        await Task.WhenAll(_readLoop, _writeLoop).ConfigureAwait(false);
    }
}
