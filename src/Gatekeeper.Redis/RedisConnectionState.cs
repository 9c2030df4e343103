namespace Gatekeeper.Redis;

/// <summary>The state of a <see cref="RedisConnection"/> (or its pub/sub connection), for health checks and circuit breakers.</summary>
public enum RedisConnectionState
{
    /// <summary>A connection attempt (TCP, TLS, AUTH, SELECT, PING) is in progress; commands fail fast.</summary>
    Connecting,

    /// <summary>Connected and hand-shaken; commands are sent.</summary>
    Connected,

    /// <summary>The last attempt failed or the connection was lost; a retry is scheduled with backoff. Commands fail fast.</summary>
    Broken,

    /// <summary>The connection was disposed and will not reconnect.</summary>
    Disposed,
}

/// <summary>Describes a change of <see cref="RedisConnectionState"/>.</summary>
public sealed class RedisConnectionStateChangedEventArgs : EventArgs
{
    /// <summary>Creates the event arguments.</summary>
    public RedisConnectionStateChangedEventArgs(RedisConnectionState previous, RedisConnectionState current, Exception? error)
    {
        Previous = previous;
        Current = current;
        Error = error;
    }

    /// <summary>The state before the change.</summary>
    public RedisConnectionState Previous { get; }

    /// <summary>The state after the change.</summary>
    public RedisConnectionState Current { get; }

    /// <summary>Why the connection broke or the attempt failed, when <see cref="Current"/> is <see cref="RedisConnectionState.Broken"/>.</summary>
    public Exception? Error { get; }
}
