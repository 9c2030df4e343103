using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Gatekeeper.FunctionalTests.Telemetry.Otlp;
using Gatekeeper.Protocol;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.FunctionalTests.Telemetry;

/// <summary>
/// A test OTLP receiver: a small Kestrel server on 127.0.0.1 that accepts the export requests of both OTLP transports,
/// decodes them and keeps what arrived, so that tests can check what a real collector would get.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="Endpoint"/> speaks OTLP/HTTP with protobuf bodies over HTTP/1.1 (<c>/v1/traces</c>, <c>/v1/metrics</c>,
/// <c>/v1/logs</c>); <see cref="GrpcEndpoint"/> speaks OTLP/gRPC over cleartext HTTP/2 with prior knowledge (the
/// <c>Export</c> method of the trace, metrics and logs services). Both store into the same lists, and both record every
/// request in <see cref="Exports"/> with its headers and compression.
/// </para>
/// <para>
/// A successful answer is an empty Export*ServiceResponse (everything accepted). <see cref="FailNext"/> makes the
/// receiver answer as an overloaded collector does instead: HTTP 503, or gRPC status UNAVAILABLE.
/// </para>
/// </remarks>
public sealed class OtlpReceiver : IAsyncDisposable
{
    /// <summary>OTEL_EXPORTER_OTLP_PROTOCOL for OTLP/HTTP with protobuf bodies.</summary>
    public const string HttpProtobuf = "http/protobuf";

    /// <summary>OTEL_EXPORTER_OTLP_PROTOCOL for OTLP/gRPC.</summary>
    public const string Grpc = "grpc";

    /// <summary>The path OTLP/HTTP exporters append to OTEL_EXPORTER_OTLP_ENDPOINT for traces.</summary>
    public const string DefaultTracesPath = "/v1/traces";

    // The gRPC method paths: /{package}.{service}/{method} of the OTLP collector services.
    internal const string TraceServicePath = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
    private const string MetricsServicePath = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
    private const string LogsServicePath = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";

    private static readonly TimeSpan WaitTimeout = TimeSpan.FromSeconds(15);

    // The empty response message: not compressed, zero bytes long.
    private static readonly byte[] EmptyGrpcMessage = new byte[GrpcProtocol.MessagePrefixLength];

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Span> _spans = new();
    private readonly ConcurrentQueue<Metric> _metrics = new();
    private readonly ConcurrentQueue<LogRecord> _logs = new();
    private readonly ConcurrentQueue<Resource> _resources = new();
    private readonly ConcurrentQueue<OtlpExport> _exports = new();
    private readonly ConcurrentQueue<string> _unexpectedRequests = new();

    // Indexed by OtlpSignal: how many more export requests of that signal to answer with a failure.
    private readonly int[] _failuresLeft = new int[3];

    private OtlpReceiver(WebApplication app)
    {
        _app = app;
    }

    /// <summary>The base URL of the OTLP/HTTP (http/protobuf) listener, to give as OTEL_EXPORTER_OTLP_ENDPOINT.</summary>
    public Uri Endpoint { get; private set; } = new("http://127.0.0.1/");

    /// <summary>The URL of the OTLP/gRPC listener (HTTP/2 only), to give as OTEL_EXPORTER_OTLP_ENDPOINT with protocol grpc.</summary>
    public Uri GrpcEndpoint { get; private set; } = new("http://127.0.0.1/");

    /// <summary>The path the http/protobuf listener takes traces on (<see cref="DefaultTracesPath"/> unless started with another).</summary>
    public string TracesPath { get; private set; } = DefaultTracesPath;

    /// <summary>Every span received so far (from accepted exports only).</summary>
    public IReadOnlyList<Span> Spans => [.. _spans];

    /// <summary>Every metric received so far (one entry per metric per export).</summary>
    public IReadOnlyList<Metric> Metrics => [.. _metrics];

    /// <summary>Every log record received so far.</summary>
    public IReadOnlyList<LogRecord> Logs => [.. _logs];

    /// <summary>The resources of every export so far.</summary>
    public IReadOnlyList<Resource> Resources => [.. _resources];

    /// <summary>Every export request so far, accepted or not, in the order they arrived.</summary>
    public IReadOnlyList<OtlpExport> Exports => [.. _exports];

    /// <summary>Requests to no export path ("POST /some/path"), answered 404: an exporter sending to the wrong place.</summary>
    public IReadOnlyList<string> UnexpectedRequests => [.. _unexpectedRequests];

    /// <summary>Settings (command-line form) that make a gatekeeper export here quickly over OTLP/HTTP (http/protobuf).</summary>
    public string[] ServerArgs() => ServerArgs(HttpProtobuf);

    /// <summary>Settings (command-line form) that make a gatekeeper export here quickly with this OTLP protocol.</summary>
    /// <param name="protocol"><see cref="HttpProtobuf"/> or <see cref="Grpc"/>.</param>
    public string[] ServerArgs(string protocol) => ExportArgs(EndpointFor(protocol).GetLeftPart(UriPartial.Authority), protocol);

    /// <summary>The listener for this OTLP protocol.</summary>
    /// <param name="protocol"><see cref="HttpProtobuf"/> or <see cref="Grpc"/>.</param>
    public Uri EndpointFor(string protocol) => protocol switch
    {
        HttpProtobuf => Endpoint,
        Grpc => GrpcEndpoint,
        _ => throw new ArgumentOutOfRangeException(nameof(protocol), protocol, "Expected 'http/protobuf' or 'grpc'."),
    };

    /// <summary>Settings (command-line form) that make a gatekeeper export to <paramref name="endpoint"/> quickly.</summary>
    public static string[] ExportArgs(string endpoint, string protocol) =>
    [
        $"--OTEL_EXPORTER_OTLP_ENDPOINT={endpoint}",
        $"--OTEL_EXPORTER_OTLP_PROTOCOL={protocol}",
        "--OTEL_SERVICE_NAME=gatekeeper-functional-tests",
        // Export within a fraction of a second instead of the 5 s (spans, logs) and 60 s (metrics) defaults.
        "--OTEL_BSP_SCHEDULE_DELAY=100",
        "--OTEL_BLRP_SCHEDULE_DELAY=100",
        "--OTEL_METRIC_EXPORT_INTERVAL=250",
    ];

    /// <summary>Starts a receiver on two free ports (OTLP/HTTP and OTLP/gRPC).</summary>
    /// <param name="tracesPath">
    /// The path the http/protobuf listener takes traces on, for a full OTEL_EXPORTER_OTLP_TRACES_ENDPOINT URL; a trace
    /// export to any other path is answered 404 and listed in <see cref="UnexpectedRequests"/>.
    /// </param>
    public static async Task<OtlpReceiver> StartAsync(string tracesPath = DefaultTracesPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(tracesPath);
        var builder = WebApplication.CreateSlimBuilder();
        ListenOptions? httpListener = null;
        ListenOptions? grpcListener = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                httpListener = listen;
            });
            // HTTP/2 only: a cleartext listener offering HTTP/1.1 as well would never see the HTTP/2 preface.
            kestrel.Listen(IPAddress.Loopback, 0, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                grpcListener = listen;
            });
        });
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new OtlpReceiver(app) { TracesPath = tracesPath };
        receiver.MapSignal(app, OtlpSignal.Traces, tracesPath, TraceServicePath, ExportTraceServiceRequest.Parser, receiver._spans,
            r => r.ResourceSpans.Select(x => (x.Resource, x.ScopeSpans.SelectMany(scope => scope.Spans))));
        receiver.MapSignal(app, OtlpSignal.Metrics, "/v1/metrics", MetricsServicePath, ExportMetricsServiceRequest.Parser, receiver._metrics,
            r => r.ResourceMetrics.Select(x => (x.Resource, x.ScopeMetrics.SelectMany(scope => scope.Metrics))));
        receiver.MapSignal(app, OtlpSignal.Logs, "/v1/logs", LogsServicePath, ExportLogsServiceRequest.Parser, receiver._logs,
            r => r.ResourceLogs.Select(x => (x.Resource, x.ScopeLogs.SelectMany(scope => scope.LogRecords))));
        app.MapFallback(context =>
        {
            receiver._unexpectedRequests.Enqueue($"{context.Request.Method} {context.Request.Path}");
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        });
        await app.StartAsync();
        // Kestrel writes the port it bound into each ListenOptions.
        receiver.Endpoint = new Uri($"http://127.0.0.1:{BoundPort(httpListener)}/");
        receiver.GrpcEndpoint = new Uri($"http://127.0.0.1:{BoundPort(grpcListener)}/");
        return receiver;
    }

    /// <summary>Answers the next <paramref name="count"/> export requests of <paramref name="signal"/> with a failure (HTTP 503, gRPC UNAVAILABLE) and keeps nothing from them.</summary>
    public void FailNext(OtlpSignal signal, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Volatile.Write(ref _failuresLeft[(int)signal], count);
    }

    /// <summary>Waits until a span matching <paramref name="match"/> has arrived.</summary>
    public Task<Span> WaitForSpanAsync(Func<Span, bool> match, string what) =>
        WaitAsync(() => _spans.FirstOrDefault(match), what);

    /// <summary>Waits until a metric with this name has a data point matching <paramref name="match"/>.</summary>
    public Task<Metric> WaitForMetricAsync(string name, Func<IReadOnlyDictionary<string, object?>, bool> match) =>
        WaitAsync(() => _metrics.FirstOrDefault(m => m.Name == name && OtlpRead.PointAttributes(m).Any(match)), $"metric {name} with a matching data point");

    /// <summary>Waits until a log record matching <paramref name="match"/> has arrived.</summary>
    public Task<LogRecord> WaitForLogAsync(Func<LogRecord, bool> match, string what) =>
        WaitAsync(() => _logs.FirstOrDefault(match), what);

    /// <summary>Waits until an export request matching <paramref name="match"/> has arrived (accepted or not).</summary>
    public Task<OtlpExport> WaitForExportAsync(Func<OtlpExport, bool> match, string what) =>
        WaitAsync(() => _exports.FirstOrDefault(match), what);

    /// <summary>Waits until an export request of <paramref name="signal"/> has arrived.</summary>
    public Task<OtlpExport> WaitForExportAsync(OtlpSignal signal) =>
        WaitForExportAsync(e => e.Signal == signal, $"a {signal} export request");

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static int BoundPort(ListenOptions? listener) =>
        listener?.IPEndPoint?.Port is > 0 and var port ? port : throw new InvalidOperationException("Kestrel did not report the port it bound.");

    private async Task<T> WaitAsync<T>(Func<T?> find, string what)
        where T : class
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            if (find() is { } found)
            {
                return found;
            }

            if (watch.Elapsed > WaitTimeout)
            {
                // What did arrive is most of the diagnosis when something did not.
                var arrived = string.Join(Environment.NewLine, _exports.Select(e => "  " + e).Concat(_unexpectedRequests.Select(r => "  unexpected " + r)));
                throw new Xunit.Sdk.XunitException(
                    $"The OTLP receiver did not get {what} within {WaitTimeout.TotalSeconds:0} s. Requests received:{Environment.NewLine}{(arrived.Length == 0 ? "  none" : arrived)}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>
    /// One signal on both transports: decode the request, record it, and (unless told to fail) keep each resource and
    /// every item it carries.
    /// </summary>
    private void MapSignal<TRequest, TItem>(
        WebApplication app,
        OtlpSignal signal,
        string httpPath,
        string grpcPath,
        MessageParser<TRequest> parser,
        ConcurrentQueue<TItem> items,
        Func<TRequest, IEnumerable<(Resource Resource, IEnumerable<TItem> Items)>> contents)
        where TRequest : IMessage<TRequest>
        where TItem : IMessage
    {
        bool Receive(HttpContext context, string protocol, string encoding, bool compressed, byte[] message)
        {
            var request = parser.ParseFrom(message);
            var received = contents(request).Select(x => (x.Resource, Items: x.Items.ToList())).ToList();
            var accepted = !TakeFailure(signal);
            if (accepted)
            {
                foreach (var (resource, list) in received)
                {
                    _resources.Enqueue(resource);
                    foreach (var item in list)
                    {
                        items.Enqueue(item);
                    }
                }
            }

            // Recorded after the items, so that a test that has seen the export also sees what it carried.
            var all = received.SelectMany(x => x.Items).Cast<IMessage>().ToList();
            _exports.Enqueue(new OtlpExport(signal, protocol, context.Request.Protocol, context.Request.Path, Headers(context.Request), encoding, compressed, all, accepted));
            return accepted;
        }

        app.MapPost(httpPath, async context =>
        {
            // OTLP/HTTP: the whole body is one protobuf message, gzip-compressed when Content-Encoding says so.
            var encoding = context.Request.Headers.ContentEncoding.ToString();
            var compressed = string.Equals(encoding, "gzip", StringComparison.OrdinalIgnoreCase);
            if (!compressed && encoding.Length > 0 && !string.Equals(encoding, "identity", StringComparison.OrdinalIgnoreCase))
            {
                context.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
                return;
            }

            var body = await ReadAllAsync(context.Request.Body);
            if (!Receive(context, HttpProtobuf, encoding, compressed, compressed ? Gunzip(body) : body))
            {
                // The collector is overloaded: a retryable status in the OTLP/HTTP specification.
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return;
            }

            // An empty Export*ServiceResponse: all accepted.
            context.Response.ContentType = "application/x-protobuf";
            context.Response.ContentLength = 0;
        });

        app.MapPost(grpcPath, async context =>
        {
            if (!GrpcProtocol.IsGrpcContentType(context.Request.ContentType))
            {
                // gRPC over HTTP/2: a request that is not gRPC at all gets a plain HTTP error, not a gRPC status.
                context.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
                return;
            }

            var body = await ReadAllAsync(context.Request.Body);
            if (!MessageFraming.TryReadPrefix(new ReadOnlySequence<byte>(body), out var flag, out var length) || length != body.Length - GrpcProtocol.MessagePrefixLength)
            {
                // A unary call's request stream holds exactly one length-prefixed message.
                GrpcStatus(context, StatusCode.Internal, "expected exactly one length-prefixed message");
                return;
            }

            var encoding = context.Request.Headers[GrpcProtocol.EncodingHeader].ToString();
            var message = body.AsSpan(GrpcProtocol.MessagePrefixLength).ToArray();
            var compressed = flag == 1;
            if (flag > 1)
            {
                GrpcStatus(context, StatusCode.Internal, "invalid compressed flag");
                return;
            }

            if (compressed)
            {
                if (encoding.Length == 0 || encoding == GrpcProtocol.IdentityEncoding)
                {
                    GrpcStatus(context, StatusCode.Internal, "compressed flag set without a grpc-encoding");
                    return;
                }

                if (encoding != GrpcProtocol.GzipEncoding)
                {
                    context.Response.Headers[GrpcProtocol.AcceptEncodingHeader] = GrpcProtocol.SupportedEncodings;
                    GrpcStatus(context, StatusCode.Unimplemented, "unsupported grpc-encoding");
                    return;
                }

                message = Gunzip(message);
            }

            if (!Receive(context, Grpc, encoding, compressed, message))
            {
                GrpcStatus(context, StatusCode.Unavailable, "the test receiver was told to fail");
                return;
            }

            context.Response.ContentType = GrpcProtocol.ContentType;
            context.Response.Headers[GrpcProtocol.AcceptEncodingHeader] = GrpcProtocol.SupportedEncodings;
            // One message, the empty Export*ServiceResponse (all accepted), then the status in the trailers.
            await context.Response.Body.WriteAsync(EmptyGrpcMessage);
            context.Response.AppendTrailer(GrpcProtocol.StatusTrailer, "0");
        });
    }

    /// <summary>Takes one of the failures <see cref="FailNext"/> asked for, if any are left.</summary>
    private bool TakeFailure(OtlpSignal signal)
    {
        ref var left = ref _failuresLeft[(int)signal];
        while (true)
        {
            var current = Volatile.Read(ref left);
            if (current <= 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref left, current - 1, current) == current)
            {
                return true;
            }
        }
    }

    /// <summary>A failed call as "Trailers-Only": the status in the one HEADERS frame, which also ends the stream.</summary>
    private static void GrpcStatus(HttpContext context, StatusCode status, string message)
    {
        context.Response.ContentType = GrpcProtocol.ContentType;
        context.Response.Headers[GrpcProtocol.StatusTrailer] = ((int)status).ToString(CultureInfo.InvariantCulture);
        context.Response.Headers[GrpcProtocol.MessageTrailer] = PercentEncoding.Encode(message);
    }

    private static Dictionary<string, string> Headers(HttpRequest request)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in request.Headers)
        {
            // Kestrel keeps :method, :path and the like out of Headers; skipped here too should that change.
            if (!name.StartsWith(':'))
            {
                headers[name] = values.ToString();
            }
        }

        return headers;
    }

    private static async Task<byte[]> ReadAllAsync(Stream body)
    {
        using var buffer = new MemoryStream();
        await body.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    private static byte[] Gunzip(byte[] compressed) => MessageCompression.Decompress(new ReadOnlySequence<byte>(compressed), int.MaxValue)!;
}
