using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.Redis.Internal;

/// <summary>
/// Keeps one <see cref="PhysicalConnection"/> alive: connects, waits for it to break, and reconnects with
/// exponential backoff and jitter (so a fleet does not reconnect in lock-step after a Redis restart).
/// Publishes the state for circuit breakers and health checks.
/// </summary>
internal sealed class ConnectionSupervisor : IAsyncDisposable
{
    private readonly RedisConnectionOptions _options;
    private readonly ConnectionKind _kind;
    private readonly Action<RespValue>? _pushHandler;
    private readonly Func<PhysicalConnection, CancellationToken, Task>? _onConnected;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly object _sender;
    private readonly CancellationTokenSource _disposed = new();
    private readonly TaskCompletionSource<Exception?> _firstAttempt = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _stateLock = new();
    private readonly string _endpoint;
    private volatile PhysicalConnection? _current;
    private RedisConnectionState _state = RedisConnectionState.Connecting;
    private Task _loop = Task.CompletedTask;

    public ConnectionSupervisor(
        object sender,
        RedisConnectionOptions options,
        ConnectionKind kind,
        Action<RespValue>? pushHandler,
        Func<PhysicalConnection, CancellationToken, Task>? onConnected,
        TimeProvider time,
        ILogger logger)
    {
        _sender = sender;
        _options = options;
        _kind = kind;
        _pushHandler = pushHandler;
        _onConnected = onConnected;
        _time = time;
        _logger = logger;
        _endpoint = options.Host + ":" + options.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    public event EventHandler<RedisConnectionStateChangedEventArgs>? StateChanged;

    public RedisConnectionState State
    {
        get
        {
            lock (_stateLock)
            {
                return _state;
            }
        }
    }

    public string EndPoint => _endpoint;

    /// <summary>The live connection, or null while connecting or broken.</summary>
    public PhysicalConnection? Current => _current;

    /// <summary>Completes after the first attempt: null on success, else why it failed.</summary>
    public Task<Exception?> FirstAttempt => _firstAttempt.Task;

    public void Start() => _loop = Task.Run(RunAsync);

    public PhysicalConnection GetConnectedOrThrow(string command)
    {
        var connection = _current;
        if (connection is null || connection.IsBroken)
        {
            throw new RedisConnectionException($"not connected to Redis at {_endpoint} (state {State}); {command} was not sent");
        }

        return connection;
    }

    private async Task RunAsync()
    {
        var token = _disposed.Token;
        var failures = 0;
        while (!token.IsCancellationRequested)
        {
            SetState(RedisConnectionState.Connecting, null);
            RedisLog.Connecting(_logger, _kind, _endpoint, failures + 1);
            PhysicalConnection? connection = null;
            Exception failure;
            try
            {
                connection = await ConnectOnceAsync(token).ConfigureAwait(false);

                // Published before the hook so that a subscription added meanwhile goes out on this connection too.
                _current = connection;
                if (_onConnected is not null)
                {
                    await _onConnected(connection, token).ConfigureAwait(false);
                }

                failures = 0;
                SetState(RedisConnectionState.Connected, null);
                RedisLog.Connected(_logger, _kind, _endpoint);
                _firstAttempt.TrySetResult(null);
                failure = await connection.Completion.ConfigureAwait(false);
                RedisLog.ConnectionLost(_logger, _kind, _endpoint, failure.Message);
            }
            catch (Exception ex)
            {
                failure = ex;
                if (!token.IsCancellationRequested)
                {
                    RedisLog.ConnectFailed(_logger, _kind, _endpoint, ex.Message);
                    _firstAttempt.TrySetResult(ex);
                }
            }
            finally
            {
                _current = null;
            }

            if (connection is not null)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }

            if (token.IsCancellationRequested)
            {
                break;
            }

            SetState(RedisConnectionState.Broken, failure);
            failures++;
            var delay = Backoff(failures);
            RedisLog.ReconnectScheduled(_logger, _kind, _endpoint, (long)delay.TotalMilliseconds);
            try
            {
                await Task.Delay(delay, _time, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        _firstAttempt.TrySetResult(new RedisConnectionException("the connection was disposed"));
    }

    private async Task<PhysicalConnection> ConnectOnceAsync(CancellationToken token)
    {
        using var timeout = new CancellationTokenSource(_options.ConnectTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(token, timeout.Token);
        try
        {
            return await PhysicalConnection.ConnectAsync(_options, _kind, _pushHandler, _time, _logger, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (timeout.IsCancellationRequested && !token.IsCancellationRequested)
        {
            throw new RedisTimeoutException($"connecting to Redis at {_endpoint} did not complete within {(long)_options.ConnectTimeout.TotalMilliseconds} ms", ex);
        }
        catch (SocketException ex)
        {
            throw new RedisConnectionException($"could not connect to Redis at {_endpoint}: {ex.Message}", ex);
        }
        catch (AuthenticationException ex)
        {
            throw new RedisConnectionException($"the TLS hand-shake with Redis at {_endpoint} failed: {ex.Message}", ex);
        }
        catch (IOException ex)
        {
            throw new RedisConnectionException($"the connection to Redis at {_endpoint} failed while connecting: {ex.Message}", ex);
        }
    }

    /// <summary>base * 2^(n-1), capped, then "equal jitter": a random point in the upper half.</summary>
    internal TimeSpan Backoff(int failures)
    {
        var exponent = Math.Min(failures - 1, 30);
        var ceiling = Math.Min(_options.ReconnectBaseDelay.TotalMilliseconds * Math.Pow(2, exponent), _options.ReconnectMaxDelay.TotalMilliseconds);
#pragma warning disable CA5394 // jitter, not security
        var jittered = (ceiling / 2) + (Random.Shared.NextDouble() * ceiling / 2);
#pragma warning restore CA5394
        return TimeSpan.FromMilliseconds(jittered);
    }

    private void SetState(RedisConnectionState state, Exception? error)
    {
        RedisConnectionState previous;
        lock (_stateLock)
        {
            previous = _state;
            if (previous == state || previous == RedisConnectionState.Disposed)
            {
                return;
            }

            _state = state;
        }

        RedisLog.StateChanged(_logger, _kind, _endpoint, previous, state);
        var handler = StateChanged;
        if (handler is null)
        {
            return;
        }

        try
        {
            handler(_sender, new RedisConnectionStateChangedEventArgs(previous, state, error));
        }
        catch (Exception ex)
        {
            RedisLog.StateHandlerFailed(_logger, ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed.IsCancellationRequested)
        {
            return;
        }

        await _disposed.CancelAsync().ConfigureAwait(false);
        _current?.Break(new RedisConnectionException($"the connection to Redis at {_endpoint} was disposed"));
        await _loop.ConfigureAwait(false);
        SetState(RedisConnectionState.Disposed, null);
        _disposed.Dispose();
    }
}
