using Microsoft.Extensions.Logging;

namespace Gatekeeper.Redis.Internal;

/// <summary>Every log line of the Redis client. Event ids and names are a contract for dashboards and alerts.</summary>
internal static partial class RedisLog
{
    [LoggerMessage(EventId = 1, EventName = "RedisConnecting", Level = LogLevel.Debug,
        Message = "Connecting the {Kind} connection to Redis at {EndPoint} (attempt {Attempt})")]
    public static partial void Connecting(ILogger logger, ConnectionKind kind, string endPoint, int attempt);

    [LoggerMessage(EventId = 2, EventName = "RedisConnected", Level = LogLevel.Information,
        Message = "The {Kind} connection to Redis at {EndPoint} is up")]
    public static partial void Connected(ILogger logger, ConnectionKind kind, string endPoint);

    [LoggerMessage(EventId = 3, EventName = "RedisConnectFailed", Level = LogLevel.Warning,
        Message = "Connecting the {Kind} connection to Redis at {EndPoint} failed: {Reason}")]
    public static partial void ConnectFailed(ILogger logger, ConnectionKind kind, string endPoint, string reason);

    [LoggerMessage(EventId = 4, EventName = "RedisConnectionLost", Level = LogLevel.Warning,
        Message = "The {Kind} connection to Redis at {EndPoint} was lost: {Reason}")]
    public static partial void ConnectionLost(ILogger logger, ConnectionKind kind, string endPoint, string reason);

    [LoggerMessage(EventId = 5, EventName = "RedisReconnectScheduled", Level = LogLevel.Debug,
        Message = "Reconnecting the {Kind} connection to Redis at {EndPoint} in {DelayMs} ms")]
    public static partial void ReconnectScheduled(ILogger logger, ConnectionKind kind, string endPoint, long delayMs);

    [LoggerMessage(EventId = 6, EventName = "RedisCommandTimeout", Level = LogLevel.Warning,
        Message = "{Command} got no reply from Redis at {EndPoint} within {TimeoutMs} ms; dropping the connection with {Pending} pending commands")]
    public static partial void CommandTimedOut(ILogger logger, string command, string endPoint, long timeoutMs, int pending);

    [LoggerMessage(EventId = 7, EventName = "RedisProtocolError", Level = LogLevel.Error,
        Message = "Redis at {EndPoint} sent an invalid reply: {Reason}")]
    public static partial void ProtocolError(ILogger logger, string endPoint, string reason);

    [LoggerMessage(EventId = 8, EventName = "RedisSubscriptionHandlerFailed", Level = LogLevel.Error,
        Message = "A handler for Redis channel {Channel} threw")]
    public static partial void SubscriptionHandlerFailed(ILogger logger, string channel, Exception exception);

    [LoggerMessage(EventId = 9, EventName = "RedisResubscribed", Level = LogLevel.Information,
        Message = "Re-subscribed {Count} Redis channels after reconnecting")]
    public static partial void Resubscribed(ILogger logger, int count);

    [LoggerMessage(EventId = 10, EventName = "RedisStateHandlerFailed", Level = LogLevel.Error,
        Message = "A Redis connection state-change handler threw")]
    public static partial void StateHandlerFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 11, EventName = "RedisStateChanged", Level = LogLevel.Debug,
        Message = "The {Kind} connection to Redis at {EndPoint} went from {Previous} to {Current}")]
    public static partial void StateChanged(ILogger logger, ConnectionKind kind, string endPoint, RedisConnectionState previous, RedisConnectionState current);
}
