using System.Diagnostics;
using System.Diagnostics.Tracing;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.Telemetry;

/// <summary>
/// Brings the warnings and errors of the SDK's OTLP exporter (a collector that refuses, times out or cannot be
/// reached) into the service's own log, which ops teams read; the SDK writes them only to its EventSource. At most
/// one report a minute, with how many were held back, so that a collector that is down does not flood the log.
/// </summary>
internal sealed class ExporterDiagnostics : EventListener
{
    /// <summary>The EventSource of OpenTelemetry.Exporter.OpenTelemetryProtocol.</summary>
    public const string SourceName = "OpenTelemetry-Exporter-OpenTelemetryProtocol";

    private static readonly TimeSpan ReportInterval = TimeSpan.FromMinutes(1);
    private readonly Lock _lock = new();
    private readonly ILogger _logger;
    private long _lastReport;
    private bool _reported;
    private int _heldBack;

    public ExporterDiagnostics(ILogger logger)
    {
        _logger = logger;
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == SourceName)
        {
            EnableEvents(eventSource, EventLevel.Warning);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        // Warnings and errors only (EnableEvents). _logger is null if an event arrives while the base constructor
        // runs, before this one has set it.
        if (_logger is null)
        {
            return;
        }

        int heldBack;
        lock (_lock)
        {
            var now = Stopwatch.GetTimestamp();
            if (_reported && Stopwatch.GetElapsedTime(_lastReport, now) < ReportInterval)
            {
                _heldBack++;
                return;
            }

            heldBack = _heldBack;
            _heldBack = 0;
            _lastReport = now;
            _reported = true;
        }

        try
        {
            TelemetryLog.ExportProblem(_logger, eventData.EventName ?? eventData.EventId.ToString(CultureInfo.InvariantCulture), Describe(eventData), heldBack);
        }
        catch (ObjectDisposedException)
        {
            // The last flush at shutdown can fail after the host's loggers are gone; nothing is left to tell.
        }
    }

    /// <summary>The event's message with its payload, on one line, without the stack traces of exceptions in it.</summary>
    private static string Describe(EventWrittenEventArgs eventData)
    {
        var payload = eventData.Payload?.ToArray() ?? [];
        string text;
        try
        {
            text = eventData.Message is { Length: > 0 } message ? string.Format(CultureInfo.InvariantCulture, message, payload) : string.Join(", ", payload);
        }
        catch (FormatException)
        {
            text = eventData.Message + " " + string.Join(", ", payload);
        }

        var lines = text.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Where(line => !line.StartsWith("at ", StringComparison.Ordinal) && !line.StartsWith("--- End of", StringComparison.Ordinal));
        return string.Join(' ', lines);
    }
}
