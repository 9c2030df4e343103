using Microsoft.Extensions.Logging;

namespace Gatekeeper.Telemetry;

/// <summary>Log events of telemetry (500-599). Event ids and names are a contract with ops dashboards.</summary>
internal static partial class TelemetryLog
{
    [LoggerMessage(EventId = 500, EventName = "TelemetryEnabled", Level = LogLevel.Information, Message = "OpenTelemetry export is on as service {ServiceName}: traces to {Traces}, metrics to {Metrics}, logs to {Logs}.")]
    public static partial void Enabled(ILogger logger, string serviceName, string traces, string metrics, string logs);

    [LoggerMessage(EventId = 501, EventName = "TelemetryDisabled", Level = LogLevel.Information, Message = "OpenTelemetry export is off ({Reason}); set OTEL_EXPORTER_OTLP_ENDPOINT to turn it on.")]
    public static partial void Disabled(ILogger logger, string reason);

    [LoggerMessage(EventId = 502, EventName = "TelemetryExportProblem", Level = LogLevel.Warning, Message = "The OTLP exporter reports {ExporterEvent} ({HeldBack} more held back since the last report, at most one a minute; decisions are not affected, telemetry may be lost): {Detail}")]
    public static partial void ExportProblem(ILogger logger, string exporterEvent, string detail, int heldBack);
}
