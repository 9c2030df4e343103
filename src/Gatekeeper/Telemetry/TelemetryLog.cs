using Microsoft.Extensions.Logging;

namespace Gatekeeper.Telemetry;

/// <summary>Log events of telemetry (500-599). Event ids and names are a contract with ops dashboards.</summary>
internal static partial class TelemetryLog
{
    [LoggerMessage(EventId = 500, EventName = "TelemetryEnabled", Level = LogLevel.Information, Message = "OpenTelemetry export is on as service {ServiceName}: traces to {Traces}, metrics to {Metrics}, logs to {Logs}.")]
    public static partial void Enabled(ILogger logger, string serviceName, string traces, string metrics, string logs);

    [LoggerMessage(EventId = 501, EventName = "TelemetryDisabled", Level = LogLevel.Information, Message = "OpenTelemetry export is off ({Reason}); set OTEL_EXPORTER_OTLP_ENDPOINT to turn it on.")]
    public static partial void Disabled(ILogger logger, string reason);

    [LoggerMessage(EventId = 502, EventName = "TraceExportFailed", Level = LogLevel.Warning, Message = "Exporting spans to {Target} failed: {Reason}. Lost since the last report: {Batches} batches, {Spans} spans. Decisions are not affected; the next failure report comes within a minute at the earliest.")]
    public static partial void TraceExportFailed(ILogger logger, Uri target, string reason, long batches, long spans);

    [LoggerMessage(EventId = 503, EventName = "TraceExportRecovered", Level = LogLevel.Information, Message = "Exporting spans to {Target} works again; lost since the last report: {Batches} batches, {Spans} spans.")]
    public static partial void TraceExportRecovered(ILogger logger, Uri target, long batches, long spans);

    [LoggerMessage(EventId = 505, EventName = "SpansDropped", Level = LogLevel.Warning, Message = "{Dropped} spans were dropped because the export queue was full ({MaxQueued} spans, OTEL_BSP_MAX_QUEUE_SIZE): the collector is slower than the call rate. Sample fewer calls (OTEL_TRACES_SAMPLER) or give the queue more room.")]
    public static partial void SpansDropped(ILogger logger, long dropped, int maxQueued);

    [LoggerMessage(EventId = 504, EventName = "TraceExportPartlyRejected", Level = LogLevel.Warning, Message = "The collector at {Target} rejected {Rejected} spans of a batch: {CollectorMessage}")]
    public static partial void TraceExportPartlyRejected(ILogger logger, Uri target, long rejected, string collectorMessage);
}
