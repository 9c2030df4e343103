using System.Buffers;
using Gatekeeper.Redis.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatekeeper.Redis;

/// <summary>
/// A multiplexed, pipelined connection to one Redis server. Any number of callers may send commands at once:
/// they are written in order on a single socket and replies are matched first-in, first-out. It reconnects by
/// itself (exponential backoff with jitter); while it is not <see cref="RedisConnectionState.Connected"/>
/// commands fail at once with <see cref="RedisConnectionException"/> instead of waiting. Pub/sub uses a second
/// connection, see <see cref="GetSubscriber"/>.
/// </summary>
public sealed class RedisConnection : IAsyncDisposable, IDisposable
{
    private readonly ConnectionSupervisor _supervisor;
    private readonly RedisConnectionOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly TimeProvider _time;
    private readonly Lock _subscriberLock = new();
    private RedisSubscriber? _subscriber;
    private int _disposed;

    private RedisConnection(RedisConnectionOptions options, ILoggerFactory? loggerFactory, TimeProvider? timeProvider)
    {
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid Redis connection options: " + string.Join("; ", problems), nameof(options));
        }

        _options = options.Clone();
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _supervisor = new ConnectionSupervisor(
            this, _options, ConnectionKind.Interactive, pushHandler: null, onConnected: null, _time, _loggerFactory.CreateLogger("Gatekeeper.Redis"));
    }

    /// <summary>Raised on every change of <see cref="State"/>, on the connection's own thread; handlers must be quick.</summary>
    public event EventHandler<RedisConnectionStateChangedEventArgs>? StateChanged
    {
        add => _supervisor.StateChanged += value;
        remove => _supervisor.StateChanged -= value;
    }

    /// <summary>The state of the command connection.</summary>
    public RedisConnectionState State => _supervisor.State;

    /// <summary><c>host:port</c> of the server.</summary>
    public string EndPoint => _supervisor.EndPoint;

    /// <summary>Commands written and not yet answered (for metrics).</summary>
    public int PendingCommands => _supervisor.Current?.PendingCount ?? 0;

    /// <summary>
    /// Creates the connection and starts connecting in the background; returns at once. Commands fail with
    /// <see cref="RedisConnectionException"/> until <see cref="State"/> is <see cref="RedisConnectionState.Connected"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public static RedisConnection Connect(RedisConnectionOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var connection = new RedisConnection(options, loggerFactory, timeProvider);
        connection._supervisor.Start();
        return connection;
    }

    /// <summary>
    /// Creates the connection and waits for the first attempt. If it fails and <see cref="RedisConnectionOptions.AbortOnConnectFail"/>
    /// is true, throws; otherwise returns a connection that keeps retrying in the background.
    /// </summary>
    /// <exception cref="RedisConnectionException">The first attempt failed and <c>abortConnect</c> is true.</exception>
    public static async Task<RedisConnection> ConnectAsync(
        RedisConnectionOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        var connection = Connect(options, loggerFactory, timeProvider);
        Exception? failure;
        try
        {
            failure = await connection._supervisor.FirstAttempt.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        if (failure is not null && options.AbortOnConnectFail)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw new RedisConnectionException($"could not connect to Redis at {connection.EndPoint}: {failure.Message}", failure);
        }

        return connection;
    }

    /// <summary>Parses a configuration string (see <see cref="RedisConnectionOptions.Parse"/>) and connects like <see cref="ConnectAsync(RedisConnectionOptions, ILoggerFactory?, TimeProvider?, CancellationToken)"/>.</summary>
    public static Task<RedisConnection> ConnectAsync(
        string configuration, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null, CancellationToken cancellationToken = default) =>
        ConnectAsync(RedisConnectionOptions.Parse(configuration), loggerFactory, timeProvider, cancellationToken);

    /// <summary>The pub/sub side, on its own connection (opened on first use, closed with this connection).</summary>
    public RedisSubscriber GetSubscriber()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        lock (_subscriberLock)
        {
            return _subscriber ??= new RedisSubscriber(_options, _loggerFactory, _time);
        }
    }

    /// <summary>GET: the value, or null when the key does not exist.</summary>
    public ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default) => GetAsync(null, key, cancellationToken);

    /// <summary>SET with an optional expiry (sent as EX when whole seconds, else PX). Returns true when stored.</summary>
    public ValueTask<bool> SetAsync(string key, ReadOnlyMemory<byte> value, TimeSpan? expiry = null, CancellationToken cancellationToken = default) =>
        SetAsync(null, key, ReadOnlyMemory<byte>.Empty, value, expiry, cancellationToken);

    /// <summary>DEL: true when the key existed.</summary>
    public ValueTask<bool> DeleteAsync(string key, CancellationToken cancellationToken = default) => DeleteAsync(null, key, cancellationToken);

    /// <summary>EXPIRE (whole seconds) or PEXPIRE: true when the key exists and now expires after <paramref name="expiry"/>.</summary>
    public ValueTask<bool> ExpireAsync(string key, TimeSpan expiry, CancellationToken cancellationToken = default) =>
        ExpireAsync(null, key, expiry, cancellationToken);

    /// <summary>PING: the round-trip time.</summary>
    public async ValueTask<TimeSpan> PingAsync(CancellationToken cancellationToken = default)
    {
        var start = _time.GetTimestamp();
        var connection = _supervisor.GetConnectedOrThrow("PING");
        var reply = await Wait(connection.SendAsync("PING", 0, static (IBufferWriter<byte> w, in int _) =>
        {
            RespWriter.WriteArrayHeader(w, 1);
            RespWriter.WriteRaw(w, RedisCommands.Ping);
        }), cancellationToken).ConfigureAwait(false);
        if (reply.Type == RespType.SimpleString && reply.BytesEqual("PONG"u8))
        {
            return _time.GetElapsedTime(start);
        }

        throw connection.Unexpected("PING", reply);
    }

    /// <summary>
    /// SELECT: switches the database for every caller of this connection and for later reconnects (it becomes
    /// the default database). Prefer <c>defaultDatabase=</c> in the configuration.
    /// </summary>
    public async ValueTask SelectAsync(int database, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(database);
        var connection = _supervisor.GetConnectedOrThrow("SELECT");
        var reply = await Wait(connection.SendAsync("SELECT", database, static (IBufferWriter<byte> w, in int db) =>
        {
            RespWriter.WriteArrayHeader(w, 2);
            RespWriter.WriteRaw(w, RedisCommands.Select);
            RespWriter.WriteBulk(w, db);
        }), cancellationToken).ConfigureAwait(false);
        if (!reply.IsOk)
        {
            throw connection.Unexpected("SELECT", reply);
        }

        _options.DefaultDatabase = database;
    }

    /// <summary>PUBLISH on the command connection: the number of subscribers that received the message.</summary>
    public async ValueTask<long> PublishAsync(string channel, ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        var connection = _supervisor.GetConnectedOrThrow("PUBLISH");
        var reply = await Wait(connection.SendAsync("PUBLISH", (channel, message), static (IBufferWriter<byte> w, in (string Channel, ReadOnlyMemory<byte> Message) s) =>
        {
            RespWriter.WriteArrayHeader(w, 3);
            RespWriter.WriteRaw(w, RedisCommands.Publish);
            RespWriter.WriteBulk(w, null, s.Channel);
            RespWriter.WriteBulk(w, s.Message.Span);
        }), cancellationToken).ConfigureAwait(false);
        return reply.Type == RespType.Integer ? reply.Integer : throw connection.Unexpected("PUBLISH", reply);
    }

    internal async ValueTask<byte[]?> GetAsync(string? prefix, string key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        var connection = _supervisor.GetConnectedOrThrow("GET");
        var reply = await Wait(connection.SendAsync("GET", (prefix, key), static (IBufferWriter<byte> w, in (string? Prefix, string Key) s) =>
        {
            RespWriter.WriteArrayHeader(w, 2);
            RespWriter.WriteRaw(w, RedisCommands.Get);
            RespWriter.WriteBulk(w, s.Prefix, s.Key);
        }), cancellationToken).ConfigureAwait(false);
        return reply.Type switch
        {
            RespType.Null => null,
            RespType.BulkString => reply.Bytes,
            _ => throw connection.Unexpected("GET", reply),
        };
    }

    /// <summary>GETRANGE key start end (inclusive); an empty array when the key does not exist.</summary>
    internal async ValueTask<byte[]> GetRangeAsync(string? prefix, string key, int start, int end, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        var connection = _supervisor.GetConnectedOrThrow("GETRANGE");
        var reply = await Wait(connection.SendAsync("GETRANGE", (prefix, key, start, end), static (IBufferWriter<byte> w, in (string? Prefix, string Key, int Start, int End) s) =>
        {
            RespWriter.WriteArrayHeader(w, 4);
            RespWriter.WriteRaw(w, RedisCommands.GetRange);
            RespWriter.WriteBulk(w, s.Prefix, s.Key);
            RespWriter.WriteBulk(w, s.Start);
            RespWriter.WriteBulk(w, s.End);
        }), cancellationToken).ConfigureAwait(false);
        return reply.Type == RespType.BulkString ? reply.Bytes! : throw connection.Unexpected("GETRANGE", reply);
    }

    /// <summary>SET prefix+key to header+value, so that the cache can add its metadata without concatenating buffers.</summary>
    internal async ValueTask<bool> SetAsync(
        string? prefix, string key, ReadOnlyMemory<byte> header, ReadOnlyMemory<byte> value, TimeSpan? expiry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        long expiryValue = 0;
        var seconds = false;
        if (expiry is { } e)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(e, TimeSpan.Zero, nameof(expiry));
            seconds = e.Ticks % TimeSpan.TicksPerSecond == 0;
            expiryValue = seconds ? (long)e.TotalSeconds : Math.Max(1, (long)Math.Ceiling(e.TotalMilliseconds));
        }

        var connection = _supervisor.GetConnectedOrThrow("SET");
        var state = new SetState(prefix, key, header, value, expiry is null ? -1 : expiryValue, seconds);
        var reply = await Wait(connection.SendAsync("SET", state, static (IBufferWriter<byte> w, in SetState s) =>
        {
            RespWriter.WriteArrayHeader(w, s.Expiry < 0 ? 3 : 5);
            RespWriter.WriteRaw(w, RedisCommands.Set);
            RespWriter.WriteBulk(w, s.Prefix, s.Key);
            RespWriter.WriteBulk(w, s.Header.Span, s.Value.Span);
            if (s.Expiry >= 0)
            {
                RespWriter.WriteRaw(w, s.Seconds ? RedisCommands.Ex : RedisCommands.Px);
                RespWriter.WriteBulk(w, s.Expiry);
            }
        }), cancellationToken).ConfigureAwait(false);
        return reply.Type switch
        {
            RespType.Null => false,
            RespType.SimpleString when reply.IsOk => true,
            _ => throw connection.Unexpected("SET", reply),
        };
    }

    internal async ValueTask<bool> DeleteAsync(string? prefix, string key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        var connection = _supervisor.GetConnectedOrThrow("DEL");
        var reply = await Wait(connection.SendAsync("DEL", (prefix, key), static (IBufferWriter<byte> w, in (string? Prefix, string Key) s) =>
        {
            RespWriter.WriteArrayHeader(w, 2);
            RespWriter.WriteRaw(w, RedisCommands.Del);
            RespWriter.WriteBulk(w, s.Prefix, s.Key);
        }), cancellationToken).ConfigureAwait(false);
        return reply.Type == RespType.Integer ? reply.Integer > 0 : throw connection.Unexpected("DEL", reply);
    }

    internal async ValueTask<bool> ExpireAsync(string? prefix, string key, TimeSpan expiry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(expiry, TimeSpan.Zero);
        var seconds = expiry.Ticks % TimeSpan.TicksPerSecond == 0;
        var amount = seconds ? (long)expiry.TotalSeconds : Math.Max(1, (long)Math.Ceiling(expiry.TotalMilliseconds));
        var command = seconds ? "EXPIRE" : "PEXPIRE";
        var connection = _supervisor.GetConnectedOrThrow(command);
        var reply = await Wait(connection.SendAsync(command, (prefix, key, amount, seconds), static (IBufferWriter<byte> w, in (string? Prefix, string Key, long Amount, bool Seconds) s) =>
        {
            RespWriter.WriteArrayHeader(w, 3);
            RespWriter.WriteRaw(w, s.Seconds ? RedisCommands.Expire : RedisCommands.PExpire);
            RespWriter.WriteBulk(w, s.Prefix, s.Key);
            RespWriter.WriteBulk(w, s.Amount);
        }), cancellationToken).ConfigureAwait(false);
        return reply.Type == RespType.Integer ? reply.Integer == 1 : throw connection.Unexpected(command, reply);
    }

    /// <summary>Any command as strings; for tests and rare administrative commands (ACL, CONFIG, TTL).</summary>
    internal async Task<RespValue> ExecuteAsync(params string[] args)
    {
        var connection = _supervisor.GetConnectedOrThrow(args[0]);
        return await connection.SendArgs(args[0], args).ConfigureAwait(false);
    }

    private static Task<RespValue> Wait(Task<RespValue> reply, CancellationToken cancellationToken) =>
        cancellationToken.CanBeCanceled && !reply.IsCompleted ? reply.WaitAsync(cancellationToken) : reply;

    /// <summary>Closes both connections; pending commands fail with <see cref="RedisConnectionException"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        RedisSubscriber? subscriber;
        lock (_subscriberLock)
        {
            subscriber = _subscriber;
        }

        if (subscriber is not null)
        {
            await subscriber.DisposeAsync().ConfigureAwait(false);
        }

        await _supervisor.DisposeAsync().ConfigureAwait(false);
    }

    /// <inheritdoc cref="DisposeAsync"/>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private readonly record struct SetState(string? Prefix, string Key, ReadOnlyMemory<byte> Header, ReadOnlyMemory<byte> Value, long Expiry, bool Seconds);
}
