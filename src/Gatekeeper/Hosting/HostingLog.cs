using Microsoft.Extensions.Logging;

namespace Gatekeeper.Hosting;

/// <summary>Log events of the host. Event ids and names are a contract with ops dashboards.</summary>
internal static partial class HostingLog
{
    [LoggerMessage(EventId = 1, EventName = "AuditDisabled", Level = LogLevel.Warning, Message = "Gatekeeper:AuditEnabled is false: answers are NOT recorded. Use this only to measure the cost of the log.")]
    public static partial void AuditDisabled(ILogger logger);
}
