using Microsoft.Extensions.Logging;

namespace Gatekeeper.Admin;

/// <summary>
/// Log events of the admin API (ids 400-499). Event ids and names are a contract with ops dashboards. Every
/// admin call is logged with its caller: reading the decision log is itself an access to personal data.
/// </summary>
internal static partial class AdminLog
{
    [LoggerMessage(EventId = 400, EventName = "AuditQueried", Level = LogLevel.Information,
        Message = "Audit query by {Caller}: {Filter}; {Count} records returned, more: {More}")]
    public static partial void AuditQueried(ILogger logger, string caller, string filter, int count, bool more);

    [LoggerMessage(EventId = 401, EventName = "AuditQueryFailed", Level = LogLevel.Warning,
        Message = "Audit query by {Caller} failed: the audit store could not be read")]
    public static partial void AuditQueryFailed(ILogger logger, string caller, Exception exception);

    [LoggerMessage(EventId = 402, EventName = "PolicyReloadRequested", Level = LogLevel.Information,
        Message = "Policy reload requested by {Caller}: {PreviousVersion} -> {Version} (changed: {Changed}, errors: {ErrorCount})")]
    public static partial void PolicyReloadRequested(ILogger logger, string caller, string previousVersion, string version, bool changed, int errorCount);
}
