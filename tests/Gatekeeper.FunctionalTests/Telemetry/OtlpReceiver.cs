using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Compression;
using Gatekeeper.FunctionalTests.Telemetry.Otlp;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.FunctionalTests.Telemetry;

/// <summary>
/// A test OTLP/HTTP receiver: a small Kestrel endpoint on 127.0.0.1 that accepts the protobuf export requests
/// (<c>/v1/traces</c>, <c>/v1/metrics</c>, <c>/v1/logs</c>), decodes them and keeps what arrived, so that tests can
/// check what a real collector would get. Answers with an empty (successful) export response.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Span> _spans = new();
    private readonly ConcurrentQueue<Metric> _metrics = new();
    private readonly ConcurrentQueue<LogRecord> _logs = new();
    private readonly ConcurrentQueue<Resource> _resources = new();

    private OtlpReceiver(WebApplication app)
    {
        _app = app;
    }

    /// <summary>The base URL to give as OTEL_EXPORTER_OTLP_ENDPOINT (with protocol http/protobuf).</summary>
    public Uri Endpoint { get; private set; } = new("http://127.0.0.1/");

    /// <summary>Every span received so far.</summary>
    public IReadOnlyList<Span> Spans => [.. _spans];

    /// <summary>Every metric received so far (one entry per metric per export).</summary>
    public IReadOnlyList<Metric> Metrics => [.. _metrics];

    /// <summary>Every log record received so far.</summary>
    public IReadOnlyList<LogRecord> Logs => [.. _logs];

    /// <summary>The resources of every export so far.</summary>
    public IReadOnlyList<Resource> Resources => [.. _resources];

    /// <summary>Settings (command-line form) that make a gatekeeper export here quickly.</summary>
    public string[] ServerArgs() =>
    [
        $"--OTEL_EXPORTER_OTLP_ENDPOINT={Endpoint.GetLeftPart(UriPartial.Authority)}",
        "--OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
        "--OTEL_SERVICE_NAME=gatekeeper-functional-tests",
        // Export within a fraction of a second instead of the 5 s (spans, logs) and 60 s (metrics) defaults.
        "--OTEL_BSP_SCHEDULE_DELAY=100",
        "--OTEL_BLRP_SCHEDULE_DELAY=100",
        "--OTEL_METRIC_EXPORT_INTERVAL=250",
    ];

    /// <summary>Starts a receiver on a free port.</summary>
    public static async Task<OtlpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new OtlpReceiver(app);
        receiver.MapExport(app, "/v1/traces", ExportTraceServiceRequest.Parser, receiver._spans,
            r => r.ResourceSpans.Select(x => (x.Resource, x.ScopeSpans.SelectMany(scope => scope.Spans))));
        receiver.MapExport(app, "/v1/metrics", ExportMetricsServiceRequest.Parser, receiver._metrics,
            r => r.ResourceMetrics.Select(x => (x.Resource, x.ScopeMetrics.SelectMany(scope => scope.Metrics))));
        receiver.MapExport(app, "/v1/logs", ExportLogsServiceRequest.Parser, receiver._logs,
            r => r.ResourceLogs.Select(x => (x.Resource, x.ScopeLogs.SelectMany(scope => scope.LogRecords))));
        await app.StartAsync();
        // Known once Kestrel has bound the free port.
        receiver.Endpoint = new Uri(app.Urls.First());
        return receiver;
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

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static async Task<T> WaitAsync<T>(Func<T?> find, string what)
        where T : class
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            if (find() is { } found)
            {
                return found;
            }

            if (watch.Elapsed > TimeSpan.FromSeconds(15))
            {
                throw new Xunit.Sdk.XunitException($"The OTLP receiver did not get {what} within 15 s.");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>One export endpoint: decode the request, keep each resource and every item it carries.</summary>
    private void MapExport<TRequest, TItem>(
        WebApplication app,
        string path,
        MessageParser<TRequest> parser,
        ConcurrentQueue<TItem> items,
        Func<TRequest, IEnumerable<(Resource Resource, IEnumerable<TItem> Items)>> contents)
        where TRequest : IMessage<TRequest>
    {
        app.MapPost(path, async context =>
        {
            var request = parser.ParseFrom(await ReadBodyAsync(context.Request));
            foreach (var (resource, received) in contents(request))
            {
                _resources.Enqueue(resource);
                foreach (var item in received)
                {
                    items.Enqueue(item);
                }
            }

            await Ok(context);
        });
    }

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request)
    {
        using var buffer = new MemoryStream();
        // OTEL_EXPORTER_OTLP_COMPRESSION=gzip is allowed by the spec; the exporter's default is none.
        if (string.Equals(request.Headers.ContentEncoding, "gzip", StringComparison.OrdinalIgnoreCase))
        {
            await using var gzip = new GZipStream(request.Body, CompressionMode.Decompress);
            await gzip.CopyToAsync(buffer);
        }
        else
        {
            await request.Body.CopyToAsync(buffer);
        }

        return buffer.ToArray();
    }

    private static Task Ok(HttpContext context)
    {
        // An empty Export*ServiceResponse: all accepted.
        context.Response.ContentType = "application/x-protobuf";
        context.Response.ContentLength = 0;
        return Task.CompletedTask;
    }
}
