using Gatekeeper.FunctionalTests.Telemetry.Otlp;
using Google.Protobuf;

namespace Gatekeeper.FunctionalTests.Telemetry;

/// <summary>The three OTLP signals; each has its own export path (http/protobuf) and service (grpc).</summary>
public enum OtlpSignal
{
    /// <summary>Spans: <c>/v1/traces</c>, <c>TraceService/Export</c>.</summary>
    Traces,

    /// <summary>Metrics: <c>/v1/metrics</c>, <c>MetricsService/Export</c>.</summary>
    Metrics,

    /// <summary>Log records: <c>/v1/logs</c>, <c>LogsService/Export</c>.</summary>
    Logs,
}

/// <summary>
/// One export request as <see cref="OtlpReceiver"/> saw it, so that tests can check how the exporter sent it (where,
/// with which headers and compression) as well as what it carried.
/// </summary>
/// <param name="Signal">Which export service the request was for.</param>
/// <param name="Protocol">The OTLP protocol, named as OTEL_EXPORTER_OTLP_PROTOCOL names it: <c>grpc</c> or <c>http/protobuf</c>.</param>
/// <param name="HttpVersion">The HTTP version of the request, e.g. <c>HTTP/2</c>.</param>
/// <param name="Path">The request path, e.g. <c>/v1/traces</c>.</param>
/// <param name="Headers">Every request header except HTTP/2 pseudo-headers; names compare case-insensitively, repeated values are comma-joined.</param>
/// <param name="Encoding">The Content-Encoding (http/protobuf) or grpc-encoding (grpc) header, or empty when absent.</param>
/// <param name="Compressed">Whether the payload really was compressed: a compressed body (http/protobuf) or a message with the compressed flag set (grpc).</param>
/// <param name="Items">The spans, metrics or log records the request carried.</param>
/// <param name="Accepted">False when the receiver answered with a failure (see <see cref="OtlpReceiver.FailNext"/>) and kept nothing.</param>
public sealed record OtlpExport(
    OtlpSignal Signal,
    string Protocol,
    string HttpVersion,
    string Path,
    IReadOnlyDictionary<string, string> Headers,
    string Encoding,
    bool Compressed,
    IReadOnlyList<IMessage> Items,
    bool Accepted)
{
    /// <summary>The spans of a trace export (none for the other signals).</summary>
    public IEnumerable<Span> Spans => Items.OfType<Span>();

    /// <summary>A request header, or null when the request had none of that name.</summary>
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    /// <inheritdoc />
    public override string ToString() =>
        $"{Signal} over {Protocol} ({HttpVersion}) to {Path}, {Items.Count} item(s), encoding '{Encoding}', compressed {Compressed}, accepted {Accepted}";
}
