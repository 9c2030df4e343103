using System.Collections;
using System.Diagnostics;
using System.Globalization;
using OpenTelemetry.Resources;

namespace Gatekeeper.Telemetry.Otlp;

/// <summary>
/// Encodes finished activities as OTLP (opentelemetry/proto/trace/v1/trace.proto and
/// collector/trace/v1/trace_service.proto), straight from each <see cref="Activity"/> into a
/// <see cref="ProtobufWriter"/>.
/// </summary>
internal static class SpanEncoder
{
    // Span flags (trace.proto SpanFlags): the low byte is the W3C trace flags; bit 8 says whether bit 9 (the parent
    // or linked context is remote) is known, which it always is for an Activity.
    private const uint ContextHasIsRemote = 0x100;
    private const uint ContextIsRemote = 0x200;

    /// <summary>Span.attributes.</summary>
    public const int SpanAttributesField = 9;

    /// <summary>The <c>resource</c> field of a ResourceSpans (field 1), encoded once per exporter.</summary>
    public static byte[] EncodeResource(Resource resource)
    {
        var writer = new ProtobufWriter(1024);
        var message = writer.BeginMessage(1);
        foreach (var attribute in resource.Attributes)
        {
            Attribute(writer, 1, attribute.Key, attribute.Value);
        }

        writer.EndMessage(message);
        return writer.Written.ToArray();
    }

    /// <summary>
    /// Starts an ExportTraceServiceRequest: one ResourceSpans holding <paramref name="resource"/> (from
    /// <see cref="EncodeResource"/>) and one ScopeSpans for <paramref name="source"/>, open for spans written by
    /// <see cref="WriteSpan"/>. <see cref="EndRequest"/> closes both.
    /// </summary>
    public static (int ResourceSpans, int ScopeSpans) BeginRequest(ProtobufWriter writer, byte[] resource, ActivitySource source)
    {
        var resourceSpans = writer.BeginMessage(1);
        writer.Raw(resource);
        var scopeSpans = writer.BeginMessage(2);
        var scope = writer.BeginMessage(1);
        writer.String(1, source.Name);
        if (source.Version is { Length: > 0 } version)
        {
            writer.String(2, version);
        }

        writer.EndMessage(scope);
        return (resourceSpans, scopeSpans);
    }

    /// <summary>Closes a request started with <see cref="BeginRequest"/>.</summary>
    public static void EndRequest(ProtobufWriter writer, (int ResourceSpans, int ScopeSpans) open)
    {
        writer.EndMessage(open.ScopeSpans);
        writer.EndMessage(open.ResourceSpans);
    }

    /// <summary>Writes one Span, as field 2 of a ScopeSpans; attributes come from <paramref name="cache"/> when it has them.</summary>
    public static void WriteSpan(ProtobufWriter writer, Activity activity, AttributeCache? cache = null)
    {
        var span = writer.BeginMessage(2);
        writer.HexId(1, activity.TraceId.ToHexString());
        writer.HexId(2, activity.SpanId.ToHexString());
        if (activity.TraceStateString is { Length: > 0 } traceState)
        {
            writer.String(3, traceState);
        }

        if (activity.ParentSpanId != default)
        {
            writer.HexId(4, activity.ParentSpanId.ToHexString());
        }

        writer.String(5, activity.DisplayName);
        // ActivityKind counts from Internal = 0; SpanKind from UNSPECIFIED = 0, INTERNAL = 1, in the same order.
        writer.Varint(6, (ulong)activity.Kind + 1);
        var start = UnixNanoseconds(activity.StartTimeUtc);
        writer.Fixed64(7, start);
        writer.Fixed64(8, start + ((ulong)activity.Duration.Ticks * 100));
        foreach (ref readonly var tag in activity.EnumerateTagObjects())
        {
            if (tag.Value is not null && cache?.TryWrite(writer, tag.Key, tag.Value) != true)
            {
                Attribute(writer, SpanAttributesField, tag.Key, tag.Value);
            }
        }

        foreach (ref readonly var activityEvent in activity.EnumerateEvents())
        {
            var message = writer.BeginMessage(11);
            writer.Fixed64(1, UnixNanoseconds(activityEvent.Timestamp.UtcDateTime));
            writer.String(2, activityEvent.Name);
            foreach (ref readonly var tag in activityEvent.EnumerateTagObjects())
            {
                Attribute(writer, 3, tag.Key, tag.Value);
            }

            writer.EndMessage(message);
        }

        foreach (ref readonly var link in activity.EnumerateLinks())
        {
            var message = writer.BeginMessage(13);
            writer.HexId(1, link.Context.TraceId.ToHexString());
            writer.HexId(2, link.Context.SpanId.ToHexString());
            if (link.Context.TraceState is { Length: > 0 } linkState)
            {
                writer.String(3, linkState);
            }

            foreach (ref readonly var tag in link.EnumerateTagObjects())
            {
                Attribute(writer, 4, tag.Key, tag.Value);
            }

            writer.Fixed32(6, Flags(link.Context.TraceFlags, link.Context.IsRemote));
            writer.EndMessage(message);
        }

        if (activity.Status != ActivityStatusCode.Unset)
        {
            var status = writer.BeginMessage(15);
            // Status.message is for errors only (trace.proto); Ok = 1, Error = 2.
            if (activity.Status == ActivityStatusCode.Error && activity.StatusDescription is { Length: > 0 } description)
            {
                writer.String(2, description);
            }

            writer.Varint(3, activity.Status == ActivityStatusCode.Ok ? 1UL : 2UL);
            writer.EndMessage(status);
        }

        writer.Fixed32(16, Flags(activity.ActivityTraceFlags, activity.HasRemoteParent));
        writer.EndMessage(span);
    }

    private static uint Flags(ActivityTraceFlags traceFlags, bool remote) =>
        (uint)traceFlags | ContextHasIsRemote | (remote ? ContextIsRemote : 0);

    private static ulong UnixNanoseconds(DateTime utc) => (ulong)(utc.Ticks - DateTime.UnixEpoch.Ticks) * 100;

    /// <summary>A KeyValue; attributes whose value is null are left out, as the SDK's exporter does.</summary>
    public static void Attribute(ProtobufWriter writer, int field, string key, object? value)
    {
        if (value is null)
        {
            return;
        }

        var message = writer.BeginMessage(field);
        writer.String(1, key);
        AnyValue(writer, 2, value);
        writer.EndMessage(message);
    }

    private static void AnyValue(ProtobufWriter writer, int field, object? value)
    {
        var message = writer.BeginMessage(field);
        switch (value)
        {
            case null:
                break;
            case string text:
                writer.String(1, text);
                break;
            case bool flag:
                writer.Varint(2, flag ? 1UL : 0UL);
                break;
            case int number:
                writer.Varint(3, (ulong)(long)number);
                break;
            case long number:
                writer.Varint(3, (ulong)number);
                break;
            case short or sbyte or byte or ushort or uint:
                writer.Varint(3, (ulong)Convert.ToInt64(value, CultureInfo.InvariantCulture));
                break;
            case double number:
                writer.Double(4, number);
                break;
            case float number:
                writer.Double(4, number);
                break;
            case Array array:
                var list = writer.BeginMessage(5);
                foreach (var item in (IEnumerable)array)
                {
                    AnyValue(writer, 1, item);
                }

                writer.EndMessage(list);
                break;
            default:
                writer.String(1, Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty);
                break;
        }

        writer.EndMessage(message);
    }
}
