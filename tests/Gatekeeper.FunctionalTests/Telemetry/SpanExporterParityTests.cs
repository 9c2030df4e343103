using System.Diagnostics;
using Gatekeeper.FunctionalTests.Telemetry.Otlp;
using Gatekeeper.Telemetry.Otlp;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Gatekeeper.FunctionalTests.Telemetry;

/// <summary>
/// The gatekeeper's span exporter against the SDK's OTLP exporter as the reference: the same activities, ended once
/// and exported by both to two receivers, must arrive as the same OTLP spans, field for field.
/// </summary>
public sealed class SpanExporterParityTests
{
    [Fact]
    public async Task Export_EveryKindOfSpanContent_ArrivesAsTheSdkExporterSendsIt()
    {
        // Arrange: two receivers, one tracer provider feeding both exporters.
        await using var reference = await OtlpReceiver.StartAsync();
        await using var ours = await OtlpReceiver.StartAsync();
        using var source = new ActivitySource("gatekeeper.tests.parity", "1.2.3");
        var settings = new OtlpSettings(new Uri(ours.Endpoint, "v1/traces"), OtlpProtocol.HttpProtobuf, [], TimeSpan.FromSeconds(5), Gzip: false);
        using var provider = Sdk.CreateTracerProviderBuilder()
            .ConfigureResource(r => r.Clear().AddService("parity", serviceVersion: "9.9.9").AddAttributes([new("deployment.environment", "test")]))
            .AddSource(source.Name)
            .SetSampler(new AlwaysOnSampler())
            .AddOtlpExporter(o =>
            {
                o.Endpoint = new Uri(reference.Endpoint, "v1/traces");
                o.Protocol = OtlpExportProtocol.HttpProtobuf;
            })
            .AddProcessor(new OtlpSpanProcessor(new OtlpTransport(settings), new BatchExportActivityProcessorOptions()))
            .Build();

        // Act: a remote parent with trace state, attributes of every type, events, links, both statuses, every kind.
        var remote = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, "vendor=value", isRemote: true);
        var linked = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.None, "other=1", isRemote: false);
        using (var server = source.StartActivity("gatekeeper.v1.Gatekeeper/Decide", ActivityKind.Server, remote, links: [new ActivityLink(linked, new ActivityTagsCollection { ["link.reason"] = "batch", ["link.n"] = 2 })])!)
        {
            server.AddTag("text", "héllo 子ども");
            server.AddTag("long.text", new string('x', 300));
            server.AddTag("flag", true);
            server.AddTag("int", -42);
            server.AddTag("long", long.MaxValue);
            server.AddTag("short", (short)7);
            server.AddTag("double", 2.5);
            server.AddTag("float", 0.25f);
            server.AddTag("strings", new[] { "a", "b" });
            server.AddTag("ints", new[] { 1, 2, 3 });
            server.AddTag("doubles", new[] { 1.5, -0.5 });
            server.AddTag("bools", new[] { true, false });
            server.AddTag("uri", new Uri("http://example.test/x"));
            server.AddEvent(new ActivityEvent("checked", tags: new ActivityTagsCollection { ["event.count"] = 3, ["event.name"] = "first" }));
            server.AddEvent(new ActivityEvent("no attributes"));
            using (var child = source.StartActivity("gatekeeper.audit.commit", ActivityKind.Internal)!)
            {
                child.SetStatus(ActivityStatusCode.Error, "audit unavailable");
            }

            server.SetStatus(ActivityStatusCode.Ok);
        }

        foreach (var kind in new[] { ActivityKind.Client, ActivityKind.Producer, ActivityKind.Consumer })
        {
            using var other = source.StartActivity(kind.ToString(), kind);
        }

        // The same tag objects span after span, as the service tags its spans (from the second on they are cached).
        object boxed = 7;
        var shared = "shared value";
        for (var i = 0; i < 4; i++)
        {
            using var repeated = source.StartActivity("repeated")!;
            repeated.AddTag("shared", shared);
            repeated.AddTag("boxed", boxed);
            repeated.AddTag("fresh", $"value {i}");
            repeated.AddTag("fresh.number", i);
        }

        Assert.True(provider.ForceFlush(10_000));

        // Assert
        var expected = reference.Spans.ToDictionary(s => OtlpRead.Hex(s.SpanId));
        var actual = ours.Spans.ToDictionary(s => OtlpRead.Hex(s.SpanId));
        Assert.Equal(9, expected.Count);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (id, span) in expected)
        {
            Assert.Equal(span, actual[id]);
        }

        Assert.Equal(Assert.Single(reference.Resources), Assert.Single(ours.Resources));
    }
}
