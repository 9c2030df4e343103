using Microsoft.Extensions.Logging;

namespace Gatekeeper.Caching;

/// <summary>Log events of the decision cache. Event ids and names are a contract with ops dashboards.</summary>
internal static partial class CacheLog
{
    [LoggerMessage(EventId = 300, EventName = "CacheLookupFailed", Level = LogLevel.Warning, Message = "Redis lookup failed ({ExceptionType}: {Detail}); evaluating locally.")]
    public static partial void LookupFailed(ILogger logger, string exceptionType, string detail);

    [LoggerMessage(EventId = 301, EventName = "CacheLookupTimedOut", Level = LogLevel.Warning, Message = "Redis lookup took longer than {TimeoutMs} ms; evaluating locally.")]
    public static partial void LookupTimedOut(ILogger logger, double timeoutMs);

    [LoggerMessage(EventId = 302, EventName = "CacheInvalidValue", Level = LogLevel.Warning, Message = "Redis returned a {Length}-byte value that is not a decision signed by this fleet for this policy; ignored.")]
    public static partial void InvalidValue(ILogger logger, int length);

    [LoggerMessage(EventId = 303, EventName = "CacheWriteFailed", Level = LogLevel.Debug, Message = "Redis write failed ({ExceptionType}: {Detail}).")]
    public static partial void WriteFailed(ILogger logger, string exceptionType, string detail);

    [LoggerMessage(EventId = 304, EventName = "CacheBreakerChanged", Level = LogLevel.Warning, Message = "Redis circuit breaker is now {State}.")]
    public static partial void BreakerChanged(ILogger logger, CircuitState state);

    [LoggerMessage(EventId = 305, EventName = "PolicyVersionPublished", Level = LogLevel.Information, Message = "Published policy version {Version} to the fleet.")]
    public static partial void VersionPublished(ILogger logger, string version);

    [LoggerMessage(EventId = 306, EventName = "PolicyVersionPublishFailed", Level = LogLevel.Warning, Message = "Could not publish policy version {Version} to the fleet ({Detail}).")]
    public static partial void VersionPublishFailed(ILogger logger, string version, string detail);

    [LoggerMessage(EventId = 307, EventName = "FleetPolicyVersionSeen", Level = LogLevel.Information, Message = "Another instance serves policy version {Version}; reloading (this one serves {Current}).")]
    public static partial void FleetVersionSeen(ILogger logger, string version, string current);
}
