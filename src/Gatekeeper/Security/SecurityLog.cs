using Microsoft.Extensions.Logging;

namespace Gatekeeper.Security;

/// <summary>Log events of transport security and caller policy (600-699). Event ids and names are a contract with operations.</summary>
internal static partial class SecurityLog
{
    [LoggerMessage(EventId = 600, EventName = "TlsCertificateInUse", Level = LogLevel.Information, Message = "TLS server certificate {Subject} ({Thumbprint}, valid until {NotAfter:O}) in use; client certificates {ClientCertificates}")]
    public static partial void CertificateInUse(ILogger logger, string subject, string thumbprint, DateTime notAfter, string clientCertificates);

    [LoggerMessage(EventId = 601, EventName = "TlsReloadFailed", Level = LogLevel.Warning, Message = "TLS files changed but could not be loaded; the previous certificates stay in use: {Reason}")]
    public static partial void ReloadFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 602, EventName = "TlsCertificateNotCurrentlyValid", Level = LogLevel.Warning, Message = "TLS server certificate {Subject} is not valid now (valid {NotBefore:O} to {NotAfter:O}); callers will refuse it")]
    public static partial void CertificateNotCurrentlyValid(ILogger logger, string subject, DateTime notBefore, DateTime notAfter);

    [LoggerMessage(EventId = 603, EventName = "ClientCertificateRejected", Level = LogLevel.Warning, Message = "Client certificate {Subject} from {Remote} refused at the TLS handshake: {Reason}")]
    public static partial void ClientCertificateRejected(ILogger logger, string subject, string remote, string reason);

    [LoggerMessage(EventId = 604, EventName = "InsecureConnectionRefused", Level = LogLevel.Warning, Message = "Plain-text call from {Remote} refused: plain text is served to loopback only (Gatekeeper:AllowInsecure is false)")]
    public static partial void InsecureConnectionRefused(ILogger logger, string remote);

    [LoggerMessage(EventId = 605, EventName = "CallerRateLimited", Level = LogLevel.Debug, Message = "Caller {Caller} is over its rate limit; RESOURCE_EXHAUSTED, retry in {RetryAfterMs} ms")]
    public static partial void RateLimited(ILogger logger, string caller, long retryAfterMs);

    [LoggerMessage(EventId = 606, EventName = "CallerNotEntitled", Level = LogLevel.Warning, Message = "Caller {Caller} asked about category {Category} for purpose {Purpose} outside its entitlement; PERMISSION_DENIED, recorded as decision {DecisionId}")]
    public static partial void NotEntitled(ILogger logger, string caller, string category, string purpose, string decisionId);

    [LoggerMessage(EventId = 607, EventName = "CallerUnknown", Level = LogLevel.Warning, Message = "Caller {Caller} is not listed in the policy's callers; PERMISSION_DENIED on {Method}, recorded as decision {DecisionId}")]
    public static partial void Unknown(ILogger logger, string caller, string method, string decisionId);

    [LoggerMessage(EventId = 608, EventName = "AdminNotEntitled", Level = LogLevel.Warning, Message = "Caller {Caller} may not call {Method}; PERMISSION_DENIED, recorded as decision {DecisionId}")]
    public static partial void AdminNotEntitled(ILogger logger, string caller, string method, string decisionId);

    [LoggerMessage(EventId = 609, EventName = "InsecureServing", Level = LogLevel.Warning, Message = "Gatekeeper:AllowInsecure is true: plain-text HTTP/2 is served to other hosts, and their callers are named 'anonymous'")]
    public static partial void InsecureServing(ILogger logger);
}
