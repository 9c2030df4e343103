using System.Diagnostics;
using Gatekeeper.Client;
using Gatekeeper.FunctionalTests.Infrastructure;
using Gatekeeper.FunctionalTests.Telemetry.Otlp;
using Gatekeeper.Hosting;
using Gatekeeper.Protocol;
using Gatekeeper.Redis.Tests.Infrastructure;
using Gatekeeper.Telemetry;
using Gatekeeper.V1;
using Microsoft.Extensions.DependencyInjection;
using static Gatekeeper.FunctionalTests.Telemetry.OtlpRead;

namespace Gatekeeper.FunctionalTests.Telemetry;

/// <summary>
/// Traces, metrics and logs as a collector receives them: a real server exporting OTLP/HTTP to
/// <see cref="OtlpReceiver"/>, called by Gatekeeper.Client inside a caller's trace.
/// </summary>
public sealed class TelemetryTests : IClassFixture<TelemetryFixture>, IDisposable
{
    private const string DecideSpan = "gatekeeper.v1.Gatekeeper/Decide";
    private readonly TelemetryFixture _fixture;
    private readonly VerifyNoErrorsScope _errors;

    public TelemetryTests(TelemetryFixture fixture)
    {
        _fixture = fixture;
        _errors = fixture.Server.Logs.VerifyNoErrors();
    }

    public void Dispose() => _errors.Dispose();

    private static DecideRequest Question(string subjectRef = "", string requestId = "") => new()
    {
        Category = "health_disability",
        Recipient = "gp_surgery",
        Purpose = "social_care",
        SubjectRef = subjectRef,
        RequestId = requestId,
    };

    internal static string DecisionName(Decision decision) => decision switch
    {
        Decision.Allow => "allow",
        Decision.AllowWithConditions => "allow_with_conditions",
        _ => "deny",
    };

    private static Task<Span> ServerSpanAsync(OtlpReceiver receiver, string traceId) =>
        receiver.WaitForSpanAsync(s => s.Kind == Span.Types.SpanKind.Server && Hex(s.TraceId) == traceId, $"the server span of trace {traceId}");

    [Fact]
    public async Task Decide_CalledInsideAClientSpan_ServerSpanIsItsChildWithRpcAndDecisionAttributes()
    {
        // Arrange
        using var caller = new TracedCaller();

        // Act
        var response = await _fixture.Client.DecideAsync(Question());

        // Assert
        var client = Assert.Single(caller.ClientSpans);
        Assert.Equal(ActivityKind.Client, client.Kind);
        Assert.Equal(DecideSpan, client.DisplayName);
        Assert.Equal("grpc", client.GetTagItem("rpc.system"));
        Assert.Equal(0, client.GetTagItem("rpc.grpc.status_code"));

        var server = await ServerSpanAsync(_fixture.Receiver, caller.TraceId);
        Assert.Equal(client.SpanId.ToHexString(), Hex(server.ParentSpanId));
        Assert.Equal(DecideSpan, server.Name);
        var tags = Attributes(server.Attributes);
        Assert.Equal("grpc", tags["rpc.system"]);
        Assert.Equal("gatekeeper.v1.Gatekeeper", tags["rpc.service"]);
        Assert.Equal("Decide", tags["rpc.method"]);
        Assert.Equal(0L, tags["rpc.grpc.status_code"]);
        Assert.Equal(DecisionName(response.Decision), tags["gatekeeper.decision"]);
        Assert.Equal("health_disability", tags["gatekeeper.category"]);
        Assert.Equal("gp_surgery", tags["gatekeeper.recipient"]);
        Assert.Equal("social_care", tags["gatekeeper.purpose"]);
        Assert.Equal(response.RuleId, tags["gatekeeper.rule_id"]);
        Assert.Equal(response.PolicyVersion, tags["gatekeeper.policy_version"]);
        Assert.Equal(response.DecisionId, tags["gatekeeper.decision_id"]);
        Assert.Contains(tags["gatekeeper.cache"], new object?[] { "l1", "miss" });
        Assert.Equal(Status.Types.StatusCode.Unset, server.Status?.Code ?? Status.Types.StatusCode.Unset);

        var audit = await _fixture.Receiver.WaitForSpanAsync(s => s.Name == "gatekeeper.audit.commit" && Hex(s.ParentSpanId) == Hex(server.SpanId), "the audit commit span under the server span");
        Assert.Equal(Span.Types.SpanKind.Internal, audit.Kind);
        Assert.Equal(1L, Attributes(audit.Attributes)["gatekeeper.audit.records"]);
        Assert.True(audit.EndTimeUnixNano <= server.EndTimeUnixNano, "the audit commit ends before the answer");
    }

    [Fact]
    public async Task Decide_InvalidRequest_SpansCarryTheStatusAndTheServerLogIsCorrelated()
    {
        // Arrange
        using var caller = new TracedCaller();
        var invalid = Question();
        invalid.Category = "Not An Id";

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => _fixture.Client.DecideAsync(invalid));

        // Assert
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        var client = Assert.Single(caller.ClientSpans);
        Assert.Equal(ActivityStatusCode.Error, client.Status);
        Assert.Equal(3, client.GetTagItem("rpc.grpc.status_code"));

        var server = await ServerSpanAsync(_fixture.Receiver, caller.TraceId);
        var tags = Attributes(server.Attributes);
        Assert.Equal(3L, tags["rpc.grpc.status_code"]);
        Assert.False(tags.ContainsKey("gatekeeper.decision"), "no decision was made");
        // INVALID_ARGUMENT is the caller's error, not the server's: the semantic conventions leave the span status unset.
        Assert.NotEqual(Status.Types.StatusCode.Error, server.Status?.Code ?? Status.Types.StatusCode.Unset);

        var log = await _fixture.Receiver.WaitForLogAsync(l => Hex(l.TraceId) == caller.TraceId, "a server log record in the call's trace");
        Assert.Equal(Hex(server.SpanId), Hex(log.SpanId));
        Assert.Contains("InvalidArgument", string.Join(" ", Strings(log.Body).Concat(Strings(log.Attributes))), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Decide_TelemetryOn_MetricsArriveWithExpectedNamesAndAttributes()
    {
        // Act
        var response = await _fixture.Client.DecideAsync(Question());

        // Assert
        var receiver = _fixture.Receiver;
        var calls = await receiver.WaitForMetricAsync("rpc.server.call.duration", a =>
            Equals(a.GetValueOrDefault("rpc.system"), "grpc") && Equals(a.GetValueOrDefault("rpc.service"), "gatekeeper.v1.Gatekeeper")
            && Equals(a.GetValueOrDefault("rpc.method"), "Decide") && Equals(a.GetValueOrDefault("rpc.grpc.status_code"), 0L));
        Assert.Equal("s", calls.Unit);
        Assert.Equal(Metric.DataOneofCase.Histogram, calls.DataCase);
        await receiver.WaitForMetricAsync("gatekeeper.decisions", a =>
            Equals(a.GetValueOrDefault("gatekeeper.decision"), DecisionName(response.Decision))
            && Equals(a.GetValueOrDefault("gatekeeper.rule_id"), response.RuleId)
            && Equals(a.GetValueOrDefault("gatekeeper.policy_version"), response.PolicyVersion));
        await receiver.WaitForMetricAsync("gatekeeper.cache.lookups", a => a.ContainsKey("gatekeeper.cache"));
        await receiver.WaitForMetricAsync("gatekeeper.policy.evaluation.duration", _ => true);
        await receiver.WaitForMetricAsync("gatekeeper.audit.commit.duration", a => !a.ContainsKey("error.type"));
        await receiver.WaitForMetricAsync("gatekeeper.audit.queue.depth", _ => true);
        await receiver.WaitForMetricAsync("gatekeeper.audit.health", _ => true);
        await receiver.WaitForMetricAsync("gatekeeper.policy.version", a => Equals(a.GetValueOrDefault("gatekeeper.policy_version"), response.PolicyVersion));
        var resource = Attributes(receiver.Resources.First().Attributes);
        Assert.Equal("gatekeeper-functional-tests", resource["service.name"]);
    }

    [Fact]
    public async Task Server_OtlpEndpoint_LogsItsOwnStartUpThroughOtlp()
    {
        // The event the server logs while it starts, before any call (so also before this test ran).
        var log = await _fixture.Receiver.WaitForLogAsync(
            l => Strings(l.Body).Concat(Strings(l.Attributes)).Any(s => s.Contains("OpenTelemetry export is on", StringComparison.Ordinal)),
            "the TelemetryEnabled log record");

        // Where each signal goes.
        var attributes = Attributes(log.Attributes);
        var endpoint = _fixture.Receiver.Endpoint.GetLeftPart(UriPartial.Authority);
        Assert.Equal($"{endpoint}/v1/traces (http/protobuf)", attributes["Traces"]);
        Assert.Equal($"{endpoint}/v1/metrics (http/protobuf)", attributes["Metrics"]);
        Assert.Equal($"{endpoint}/v1/logs (http/protobuf)", attributes["Logs"]);
    }

    [Fact]
    public async Task Telemetry_RequestWithSubjectAndRequestId_NeitherAppearsInAnySpanMetricOrLog()
    {
        // Arrange: its own server, so that disposing it flushes every signal before the scan.
        const string subject = "subject-3c9e1f-personal";
        const string requestId = "request-3c9e1f-correlation";
        await using var receiver = await OtlpReceiver.StartAsync();
        var server = await GatekeeperServer.StartAsync(receiver.ServerArgs());
        string traceId;
        DecideResponse response;
        await using (server)
        {
            using var client = server.CreateClient();
            using var caller = new TracedCaller();
            traceId = caller.TraceId;

            // Act
            response = await client.DecideAsync(Question(subject, requestId));
            var invalid = Question(subject, requestId);
            invalid.Purpose = "Not An Id";
            await Assert.ThrowsAsync<RpcException>(() => client.DecideAsync(invalid));
            await ServerSpanAsync(receiver, traceId);
        }

        // Assert: the scan covered this call (its spans, metrics and logs arrived) and found neither value.
        Assert.Equal(requestId, response.RequestId);
        Assert.Contains(receiver.Spans, s => Hex(s.TraceId) == traceId && s.Name == "gatekeeper.audit.commit");
        Assert.Contains(receiver.Metrics, m => m.Name == "gatekeeper.decisions");
        Assert.Contains(receiver.Logs, l => Hex(l.TraceId) == traceId);
        var texts = new List<string>();
        foreach (var span in receiver.Spans)
        {
            texts.Add(span.Name);
            texts.AddRange(Strings(span.Attributes));
            texts.AddRange(span.Events.SelectMany(e => Strings(e.Attributes)));
            texts.Add(span.Status?.Message ?? string.Empty);
        }

        foreach (var metric in receiver.Metrics)
        {
            texts.AddRange(PointAttributes(metric).SelectMany(a => a.Values.Select(v => v?.ToString() ?? string.Empty)));
        }

        foreach (var log in receiver.Logs)
        {
            texts.AddRange(Strings(log.Body));
            texts.AddRange(Strings(log.Attributes));
        }

        texts.AddRange(receiver.Resources.SelectMany(r => Strings(r.Attributes)));
        Assert.DoesNotContain(texts, t => t.Contains(subject, StringComparison.Ordinal));
        Assert.DoesNotContain(texts, t => t.Contains(requestId, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Decide_WithRedis_L2LookupIsAClientSpanUnderTheServerSpan()
    {
        // Arrange
        using var redis = RedisServer.Start();
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var server = await GatekeeperServer.StartAsync([.. receiver.ServerArgs(), $"--Gatekeeper:Redis:Configuration={redis.Configuration("connectTimeout=2000,syncTimeout=2000")}", "--Gatekeeper:Cache:L2LookupTimeout=00:00:02"]);
        using var client = server.CreateClient();
        using var caller = new TracedCaller();

        // The Redis connection is made in the background: a call before it is up fails its GET at once (a
        // correct miss, but without the hit attribute this test looks for).
        var connected = System.Diagnostics.Stopwatch.StartNew();
        while (!server.Logs.Records.Any(r => r.EventId.Name == "RedisConnected"))
        {
            Assert.True(connected.Elapsed < TimeSpan.FromSeconds(10), "the server never connected to Redis");
            await Task.Delay(20);
        }

        // Act
        await client.DecideAsync(Question());

        // Assert
        var span = await ServerSpanAsync(receiver, caller.TraceId);
        Assert.Equal("miss", Attributes(span.Attributes)["gatekeeper.cache"]);
        var get = await receiver.WaitForSpanAsync(s => s.Name == "GET" && Hex(s.ParentSpanId) == Hex(span.SpanId), "the Redis GET span under the server span");
        Assert.Equal(Span.Types.SpanKind.Client, get.Kind);
        var tags = Attributes(get.Attributes);
        Assert.Equal("redis", tags["db.system.name"]);
        Assert.Equal("GET", tags["db.operation.name"]);
        Assert.Equal(false, tags["gatekeeper.cache.hit"]);
        // The miss is written back in the background, still in the call's trace.
        await receiver.WaitForSpanAsync(s => s.Name == "SET" && Hex(s.TraceId) == caller.TraceId, "the background Redis SET in the call's trace");
        await receiver.WaitForMetricAsync("db.client.operation.duration", a => Equals(a.GetValueOrDefault("db.system.name"), "redis") && Equals(a.GetValueOrDefault("db.operation.name"), "GET"));
        await receiver.WaitForMetricAsync("gatekeeper.cache.l2.circuit.state", _ => true);
    }

    [Fact]
    public async Task Server_NoOtlpEndpoint_ExportIsOffAndSaysSo()
    {
        // Act
        await using var server = await GatekeeperServer.StartAsync();

        // Assert
        Assert.False(server.App.Services.GetRequiredService<GatekeeperTelemetry>().Enabled);
        Assert.Contains(server.Logs.Records, r => r.EventId.Id == 501 && r.EventId.Name == "TelemetryDisabled");
    }

    [Theory]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4317")] // host:port without http://, which parses as a URI scheme
    [InlineData("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")]
    [InlineData("OTEL_EXPORTER_OTLP_HEADERS", "api-key")]
    [InlineData("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "5s")]
    public void Build_MalformedOtlpSetting_FailsAtStartUpNamingIt(string key, string value)
    {
        // Arrange: the SDK would report these on its EventSource only, and export with a default.
        var data = Directory.CreateTempSubdirectory("gk-func-").FullName;
        try
        {
            // Act
            var error = Assert.Throws<InvalidOperationException>(() => GatekeeperApp.Build(["--OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317", $"--{key}={value}", $"--Gatekeeper:DataDirectory={data}"]));

            // Assert
            Assert.Contains(key, error.Message, StringComparison.Ordinal);
            Assert.Contains(value, error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}
