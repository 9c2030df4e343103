using Gatekeeper.Protocol;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.Transport;

/// <summary>Log events of the gRPC layer. Event ids and names are a contract with ops dashboards.</summary>
internal static partial class GrpcServerLog
{
    [LoggerMessage(EventId = 100, EventName = "UnsupportedContentType", Level = LogLevel.Debug, Message = "Request with content-type '{ContentType}' refused with HTTP 415.")]
    public static partial void UnsupportedContentType(ILogger logger, string? contentType);

    [LoggerMessage(EventId = 101, EventName = "UnimplementedMethod", Level = LogLevel.Debug, Message = "Call to unknown method {Path}.")]
    public static partial void UnimplementedMethod(ILogger logger, string path);

    [LoggerMessage(EventId = 102, EventName = "InvalidTimeout", Level = LogLevel.Debug, Message = "Ignored malformed grpc-timeout '{Value}'.")]
    public static partial void InvalidTimeout(ILogger logger, string? value);

    [LoggerMessage(EventId = 103, EventName = "CallFailedWithStatus", Level = LogLevel.Debug, Message = "Call {Method} ended with {StatusCode}: {Detail}")]
    public static partial void CallFailedWithStatus(ILogger logger, string method, StatusCode statusCode, string detail);

    [LoggerMessage(EventId = 104, EventName = "DeadlineExceeded", Level = LogLevel.Debug, Message = "Call {Method} exceeded its deadline.")]
    public static partial void DeadlineExceeded(ILogger logger, string method);

    [LoggerMessage(EventId = 105, EventName = "CallCancelled", Level = LogLevel.Debug, Message = "Call {Method} was cancelled by the caller.")]
    public static partial void CallCancelled(ILogger logger, string method);

    [LoggerMessage(EventId = 106, EventName = "HandlerFailed", Level = LogLevel.Error, Message = "Handler of {Method} threw; the caller got UNKNOWN.")]
    public static partial void HandlerFailed(ILogger logger, string method, Exception exception);
}
