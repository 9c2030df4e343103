using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Gatekeeper.FunctionalTests.Infrastructure;
using Gatekeeper.FunctionalTests.Telemetry.Otlp;
using Gatekeeper.V1;
using Microsoft.Extensions.Logging;
using static Gatekeeper.FunctionalTests.Telemetry.OtlpRead;
using OtlpLogRecord = Gatekeeper.FunctionalTests.Telemetry.Otlp.LogRecord;

namespace Gatekeeper.FunctionalTests.Telemetry;

/// <summary>
/// How the gatekeeper sends OTLP, as configured by the standard OTEL_EXPORTER_OTLP_* settings: protocol, endpoints,
/// headers, compression, and what happens when the collector fails or is not there. These describe what an operator
/// expects of any OTLP exporter (the OpenTelemetry specification's exporter configuration), not of one implementation,
/// so they hold for the SDK's exporter and must keep holding for the service's own span exporter.
/// </summary>
/// <remarks>
/// Each test starts its own <see cref="OtlpReceiver"/> and server, since each needs its own settings. The class's
/// fixture is a reference server without telemetry: what it answers is the correct answer, whatever the policy says.
/// </remarks>
public sealed class OtlpExportTests : IClassFixture<GatekeeperServerFixture>
{
    private const string DecideSpan = "gatekeeper.v1.Gatekeeper/Decide";
    private const string HttpProtobuf = OtlpReceiver.HttpProtobuf;
    private const string Grpc = OtlpReceiver.Grpc;

    // Logged by the server as it starts, so every server has at least this one log record to export.
    private const string StartUpLog = "OpenTelemetry export is on";

    private static readonly OtlpSignal[] AllSignals = [OtlpSignal.Traces, OtlpSignal.Metrics, OtlpSignal.Logs];

    private readonly GatekeeperServerFixture _reference;

    public OtlpExportTests(GatekeeperServerFixture reference)
    {
        _reference = reference;
    }

    /// <summary>The answer of the server without telemetry: what every exporting server must answer too.</summary>
    private Task<DecideResponse> ReferenceAnswerAsync() => _reference.Client.DecideAsync(DecideTests.Allowed());

    /// <summary>Equal but for the decision id, which is new for every decision.</summary>
    private static void AssertSameAnswer(DecideResponse expected, DecideResponse actual)
    {
        var expectedWithoutId = expected.Clone();
        var actualWithoutId = actual.Clone();
        expectedWithoutId.DecisionId = string.Empty;
        actualWithoutId.DecisionId = string.Empty;
        Assert.Equal(expectedWithoutId, actualWithoutId);
    }

    private static Task<Span> ServerSpanAsync(OtlpReceiver receiver, string traceId) =>
        receiver.WaitForSpanAsync(s => s.Kind == Span.Types.SpanKind.Server && Hex(s.TraceId) == traceId, $"the server span of trace {traceId}");

    private static Task<OtlpExport> ExportOfTraceAsync(OtlpReceiver receiver, string traceId) =>
        receiver.WaitForExportAsync(
            e => e.Signal == OtlpSignal.Traces && e.Accepted && e.Spans.Any(s => Hex(s.TraceId) == traceId),
            $"the trace export carrying trace {traceId}");

    /// <summary>Waits until every signal has had an export with at least one item, so that assertions over all exports cover all three.</summary>
    private static async Task EverySignalExportedAsync(OtlpReceiver receiver)
    {
        foreach (var signal in AllSignals)
        {
            await receiver.WaitForExportAsync(e => e.Signal == signal && e.Items.Count > 0, $"a {signal} export with items");
        }
    }

    private static bool IsStartUpLog(OtlpLogRecord log) =>
        Strings(log.Body).Concat(Strings(log.Attributes)).Any(s => s.Contains(StartUpLog, StringComparison.Ordinal));

    [Fact]
    public async Task Export_GrpcProtocol_SpansMetricsAndLogsArriveOverGrpc()
    {
        // Arrange
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var server = await GatekeeperServer.StartAsync(receiver.ServerArgs(Grpc));
        using var errors = server.Logs.VerifyNoErrors();
        using var client = server.CreateClient();
        using var caller = new TracedCaller();

        // Act
        var response = await client.DecideAsync(DecideTests.Allowed());

        // Assert
        var span = await ServerSpanAsync(receiver, caller.TraceId);
        Assert.Equal(DecideSpan, span.Name);
        var tags = Attributes(span.Attributes);
        Assert.Equal("grpc", tags["rpc.system"]);
        Assert.Equal(TelemetryTests.DecisionName(response.Decision), tags["gatekeeper.decision"]);
        Assert.Equal(response.DecisionId, tags["gatekeeper.decision_id"]);

        var traces = await ExportOfTraceAsync(receiver, caller.TraceId);
        Assert.Equal(Grpc, traces.Protocol);
        Assert.Equal("HTTP/2", traces.HttpVersion);
        Assert.Equal("/opentelemetry.proto.collector.trace.v1.TraceService/Export", traces.Path);
        Assert.StartsWith("application/grpc", traces.Header("content-type"), StringComparison.Ordinal);
        Assert.Equal("trailers", traces.Header("te"));

        var metrics = await receiver.WaitForExportAsync(e => e.Signal == OtlpSignal.Metrics && e.Items.Count > 0, "a metrics export with at least one metric");
        Assert.Equal(Grpc, metrics.Protocol);
        Assert.Equal("/opentelemetry.proto.collector.metrics.v1.MetricsService/Export", metrics.Path);

        await receiver.WaitForLogAsync(IsStartUpLog, "the server's start-up log record");
        var logs = await receiver.WaitForExportAsync(e => e.Signal == OtlpSignal.Logs && e.Items.OfType<OtlpLogRecord>().Any(IsStartUpLog), "the logs export carrying the start-up record");
        Assert.Equal(Grpc, logs.Protocol);
        Assert.Equal("/opentelemetry.proto.collector.logs.v1.LogsService/Export", logs.Path);

        Assert.All(receiver.Exports, e => Assert.Equal(Grpc, e.Protocol));
        Assert.Empty(receiver.UnexpectedRequests);
    }

    [Fact]
    public async Task Export_HttpProtobufProtocol_PostsProtobufToTheSignalPathsOfTheEndpoint()
    {
        // Arrange
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var server = await GatekeeperServer.StartAsync(receiver.ServerArgs(HttpProtobuf));
        using var errors = server.Logs.VerifyNoErrors();
        using var client = server.CreateClient();
        using var caller = new TracedCaller();

        // Act
        await client.DecideAsync(DecideTests.Allowed());

        // Assert
        var traces = await ExportOfTraceAsync(receiver, caller.TraceId);
        await EverySignalExportedAsync(receiver);
        Assert.Equal("/v1/traces", traces.Path);
        Assert.All(receiver.Exports, e =>
        {
            Assert.Equal(HttpProtobuf, e.Protocol);
            Assert.Equal("application/x-protobuf", e.Header("content-type"));
            Assert.Equal($"/v1/{e.Signal.ToString().ToLowerInvariant()}", e.Path);
        });
        Assert.Empty(receiver.UnexpectedRequests);
    }

    [Theory]
    [InlineData(HttpProtobuf)]
    [InlineData(Grpc)]
    public async Task Export_OtlpHeaders_EverySignalCarriesThemPercentDecoded(string protocol)
    {
        // Arrange: the value is a W3C-baggage-style list, and values are percent-decoded (%20 is a space).
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var server = await GatekeeperServer.StartAsync(
            [.. receiver.ServerArgs(protocol), "--OTEL_EXPORTER_OTLP_HEADERS=x-api-key=secret%20value,tenant=council"]);
        using var errors = server.Logs.VerifyNoErrors();
        using var client = server.CreateClient();

        // Act
        await client.DecideAsync(DecideTests.Allowed());

        // Assert
        await EverySignalExportedAsync(receiver);
        Assert.All(receiver.Exports, e =>
        {
            Assert.Equal(protocol, e.Protocol);
            Assert.Equal("secret value", e.Header("x-api-key"));
            Assert.Equal("council", e.Header("tenant"));
        });
    }

    [Theory]
    [InlineData(HttpProtobuf)]
    [InlineData(Grpc)]
    public async Task Export_TracesHeaders_ReplaceTheGeneralHeadersOnTraceExportsOnly(string protocol)
    {
        // Arrange: every option "MUST be overridable by a signal specific option" (OTLP exporter specification), so trace
        // exports carry the traces value instead of the general one, and the other signals keep the general one.
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var server = await GatekeeperServer.StartAsync(
        [
            .. receiver.ServerArgs(protocol),
            "--OTEL_EXPORTER_OTLP_HEADERS=tenant=council",
            "--OTEL_EXPORTER_OTLP_TRACES_HEADERS=x-signal=traces",
        ]);
        using var errors = server.Logs.VerifyNoErrors();
        using var client = server.CreateClient();

        // Act
        await client.DecideAsync(DecideTests.Allowed());

        // Assert
        await EverySignalExportedAsync(receiver);
        Assert.All(receiver.Exports, e =>
        {
            if (e.Signal == OtlpSignal.Traces)
            {
                Assert.Equal("traces", e.Header("x-signal"));
                Assert.Null(e.Header("tenant"));
            }
            else
            {
                Assert.Equal("council", e.Header("tenant"));
                Assert.Null(e.Header("x-signal"));
            }
        });
    }

    [Fact]
    public async Task Export_TracesEndpoint_TracesGoToThatUrlAsIsAndOtherSignalsToTheGeneralEndpoint()
    {
        // Arrange: a per-signal endpoint is the full URL, used without appending /v1/traces.
        await using var receiver = await OtlpReceiver.StartAsync(tracesPath: "/custom/traces");
        var tracesUrl = $"{receiver.Endpoint.GetLeftPart(UriPartial.Authority)}/custom/traces";
        await using var server = await GatekeeperServer.StartAsync([.. receiver.ServerArgs(HttpProtobuf), $"--OTEL_EXPORTER_OTLP_TRACES_ENDPOINT={tracesUrl}"]);
        using var errors = server.Logs.VerifyNoErrors();
        using var client = server.CreateClient();
        using var caller = new TracedCaller();

        // Act
        await client.DecideAsync(DecideTests.Allowed());

        // Assert
        var traces = await ExportOfTraceAsync(receiver, caller.TraceId);
        Assert.Equal("/custom/traces", traces.Path);
        await EverySignalExportedAsync(receiver);
        Assert.All(receiver.Exports.Where(e => e.Signal == OtlpSignal.Metrics), e => Assert.Equal("/v1/metrics", e.Path));
        Assert.All(receiver.Exports.Where(e => e.Signal == OtlpSignal.Logs), e => Assert.Equal("/v1/logs", e.Path));
        Assert.Empty(receiver.UnexpectedRequests);

        // The start-up log says what the exporter does.
        var general = receiver.Endpoint.GetLeftPart(UriPartial.Authority);
        var enabled = Assert.Single(server.Logs.Records, r => r.EventId.Name == "TelemetryEnabled");
        Assert.Contains($"traces to {tracesUrl} (http/protobuf), metrics to {general}/v1/metrics (http/protobuf), logs to {general}/v1/logs (http/protobuf)", enabled.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_TracesProtocolAndEndpoint_TracesGoOverGrpcWhileOtherSignalsStayOnHttp()
    {
        // Arrange: the general settings say http/protobuf; the trace-specific ones send traces to the gRPC listener.
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var server = await GatekeeperServer.StartAsync(
        [
            .. receiver.ServerArgs(HttpProtobuf),
            "--OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=grpc",
            $"--OTEL_EXPORTER_OTLP_TRACES_ENDPOINT={receiver.GrpcEndpoint.GetLeftPart(UriPartial.Authority)}",
        ]);
        using var errors = server.Logs.VerifyNoErrors();
        using var client = server.CreateClient();
        using var caller = new TracedCaller();

        // Act
        await client.DecideAsync(DecideTests.Allowed());

        // Assert
        var traces = await ExportOfTraceAsync(receiver, caller.TraceId);
        Assert.Equal(Grpc, traces.Protocol);
        await EverySignalExportedAsync(receiver);
        Assert.All(receiver.Exports, e => Assert.Equal(e.Signal == OtlpSignal.Traces ? Grpc : HttpProtobuf, e.Protocol));
        Assert.Empty(receiver.UnexpectedRequests);
    }

    [Theory]
    [InlineData(HttpProtobuf)]
    [InlineData(Grpc)]
    public async Task Export_GzipCompression_EveryExportArrivesCompressedAndDecodes(string protocol)
    {
        // Arrange
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var server = await GatekeeperServer.StartAsync([.. receiver.ServerArgs(protocol), "--OTEL_EXPORTER_OTLP_COMPRESSION=gzip"]);
        using var errors = server.Logs.VerifyNoErrors();
        using var client = server.CreateClient();
        using var caller = new TracedCaller();

        // Act
        var response = await client.DecideAsync(DecideTests.Allowed());

        // Assert: gzip is Content-Encoding for OTLP/HTTP, and grpc-encoding plus the message's compressed flag for gRPC.
        var traces = await ExportOfTraceAsync(receiver, caller.TraceId);
        var span = Assert.Single(traces.Spans, s => Hex(s.TraceId) == caller.TraceId && s.Kind == Span.Types.SpanKind.Server);
        Assert.Equal(DecideSpan, span.Name);
        Assert.Equal(response.DecisionId, Attributes(span.Attributes)["gatekeeper.decision_id"]);
        await EverySignalExportedAsync(receiver);
        Assert.All(receiver.Exports, e =>
        {
            Assert.Equal(protocol, e.Protocol);
            Assert.Equal("gzip", e.Encoding);
            Assert.True(e.Compressed, $"{e} was not compressed");
        });
    }

    [Theory]
    [InlineData(HttpProtobuf)]
    [InlineData(Grpc)]
    public async Task Decide_CollectorFailingTraceExports_AnswersUnchangedAndSpansArriveOnceItRecovers(string protocol)
    {
        // Arrange: the collector answers the first three trace exports as an overloaded one does (HTTP 503, gRPC UNAVAILABLE).
        const int failures = 3;
        var expected = await ReferenceAnswerAsync();
        await using var receiver = await OtlpReceiver.StartAsync();
        receiver.FailNext(OtlpSignal.Traces, failures);
        await using var server = await GatekeeperServer.StartAsync(receiver.ServerArgs(protocol));
        using var errors = server.Logs.VerifyNoErrors();
        using var client = server.CreateClient();

        // Act: keep deciding while trace exports fail, then once more after the collector has recovered.
        var whileFailing = new List<DecideResponse>();
        var watch = Stopwatch.StartNew();
        while (receiver.Exports.Count(e => e.Signal == OtlpSignal.Traces && !e.Accepted) < failures)
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"the collector was sent only {receiver.Exports.Count(e => !e.Accepted)} of {failures} trace exports in 15 s");
            whileFailing.Add(await client.DecideAsync(DecideTests.Allowed()));
            await Task.Delay(50);
        }

        using var caller = new TracedCaller();
        var afterRecovery = await client.DecideAsync(DecideTests.Allowed());

        // Assert
        Assert.NotEmpty(whileFailing);
        Assert.All(whileFailing.Append(afterRecovery), answer => AssertSameAnswer(expected, answer));
        var span = await ServerSpanAsync(receiver, caller.TraceId);
        Assert.Equal(afterRecovery.DecisionId, Attributes(span.Attributes)["gatekeeper.decision_id"]);
        Assert.All(receiver.Exports.Where(e => !e.Accepted), e => Assert.Equal((OtlpSignal.Traces, protocol), (e.Signal, e.Protocol)));
    }

    [Theory]
    [InlineData(HttpProtobuf)]
    [InlineData(Grpc)]
    public async Task Decide_CollectorUnreachable_AnswersPromptlyAndServerStopsWithinSeconds(string protocol)
    {
        // Arrange: an endpoint on a port nobody listens on; every export is refused.
        var expected = await ReferenceAnswerAsync();
        var endpoint = $"http://127.0.0.1:{ClosedPort()}";

        // Act
        var run = await DecideWhileTheCollectorIsDownAsync(OtlpReceiver.ExportArgs(endpoint, protocol));

        // Assert
        AssertAnsweredPromptlyAndStopped(expected, run);

        // Ops learn of it from the service's own log, once: the other failures of the minute are held back.
        var problem = Assert.Single(run.Logs, r => r.EventId.Name == "TelemetryExportProblem");
        Assert.Equal(LogLevel.Warning, problem.Level);
        Assert.Contains(endpoint, problem.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(HttpProtobuf)]
    [InlineData(Grpc)]
    public async Task Decide_CollectorNeverAnswers_AnswersPromptlyAndServerStopsWithinSeconds(string protocol)
    {
        // Arrange: a collector that takes connections and then says nothing, the case a closed port does not cover;
        // OTEL_EXPORTER_OTLP_TIMEOUT bounds each export (the 10 s default would make shutdown wait that long).
        var expected = await ReferenceAnswerAsync();
        await using var collector = SilentCollector.Start();

        // Act: the exports hang until their timeout meanwhile.
        var run = await DecideWhileTheCollectorIsDownAsync(
            [.. OtlpReceiver.ExportArgs($"http://127.0.0.1:{collector.Port}", protocol), "--OTEL_EXPORTER_OTLP_TIMEOUT=500"]);

        // Assert
        Assert.True(collector.Connections > 0, "the exporter never connected to the collector");
        AssertAnsweredPromptlyAndStopped(expected, run);
        var problem = Assert.Single(run.Logs, r => r.EventId.Name == "TelemetryExportProblem");
        Assert.Contains($"127.0.0.1:{collector.Port}", problem.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Starts a server with <paramref name="serverArgs"/>, makes ten calls spread over a second (so that several span,
    /// log and metric exports fail meanwhile), then stops it; no Error may be logged.
    /// </summary>
    private static async Task<CollectorDownRun> DecideWhileTheCollectorIsDownAsync(string[] serverArgs)
    {
        var server = await GatekeeperServer.StartAsync(serverArgs);
        var answers = new List<(DecideResponse Answer, TimeSpan Took)>();
        TimeSpan stopping;
        try
        {
            using var errors = server.Logs.VerifyNoErrors();
            using var client = server.CreateClient(options => options.DefaultDeadline = TimeSpan.FromSeconds(5));
            for (var i = 0; i < 10; i++)
            {
                var call = Stopwatch.StartNew();
                var answer = await client.DecideAsync(DecideTests.Allowed());
                answers.Add((answer, call.Elapsed));
                await Task.Delay(100);
            }
        }
        finally
        {
            var stop = Stopwatch.StartNew();
            await server.DisposeAsync();
            stopping = stop.Elapsed;
        }

        return new CollectorDownRun(answers, stopping, server.Logs.Records);
    }

    /// <summary>Every answer as without telemetry and under 2 s; the server stopped in under 5 s.</summary>
    private static void AssertAnsweredPromptlyAndStopped(DecideResponse expected, CollectorDownRun run)
    {
        Assert.All(run.Answers, a =>
        {
            AssertSameAnswer(expected, a.Answer);
            Assert.True(a.Took < TimeSpan.FromSeconds(2), $"a call took {a.Took.TotalMilliseconds:0} ms");
        });
        Assert.True(run.Stopping < TimeSpan.FromSeconds(5), $"the server took {run.Stopping.TotalSeconds:0.0} s to stop");
    }

    /// <summary>A loopback port that was free a moment ago and has no listener now.</summary>
    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Accepts TCP connections on a free loopback port, reads and discards what arrives, and never answers.</summary>
    private sealed class SilentCollector : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _accepting;
        private int _connections;

        private SilentCollector(TcpListener listener)
        {
            _listener = listener;
            _accepting = AcceptAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public int Connections => Volatile.Read(ref _connections);

        public static SilentCollector Start()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return new SilentCollector(listener);
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            try
            {
                await _accepting;
            }
            catch (OperationCanceledException)
            {
            }

            _stop.Dispose();
        }

        private async Task AcceptAsync()
        {
            var sockets = new List<Task>();
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    var socket = await _listener.AcceptSocketAsync(_stop.Token);
                    Interlocked.Increment(ref _connections);
                    sockets.Add(DrainAsync(socket));
                }
            }
            finally
            {
                await Task.WhenAll(sockets);
            }
        }

        private async Task DrainAsync(Socket socket)
        {
            using (socket)
            {
                var buffer = new byte[4096];
                try
                {
                    while (await socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token) > 0)
                    {
                    }
                }
                catch (Exception e) when (e is OperationCanceledException or SocketException)
                {
                    // Stopped, or the exporter gave up on the connection.
                }
            }
        }
    }

    private sealed record CollectorDownRun(IReadOnlyList<(DecideResponse Answer, TimeSpan Took)> Answers, TimeSpan Stopping, IReadOnlyList<Infrastructure.LogRecord> Logs);
}
