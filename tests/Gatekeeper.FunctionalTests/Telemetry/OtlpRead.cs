using Gatekeeper.FunctionalTests.Telemetry.Otlp;
using Google.Protobuf;

namespace Gatekeeper.FunctionalTests.Telemetry;

/// <summary>Reading OTLP messages in assertions: attributes as dictionaries, ids as hex, every string value.</summary>
public static class OtlpRead
{
    /// <summary>The attributes as a dictionary of plain values (string, bool, long, double, or a list of them).</summary>
    public static Dictionary<string, object?> Attributes(IEnumerable<KeyValue> attributes)
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var attribute in attributes)
        {
            result[attribute.Key] = Value(attribute.Value);
        }

        return result;
    }

    /// <summary>The attribute sets of every data point of a metric.</summary>
    public static IEnumerable<IReadOnlyDictionary<string, object?>> PointAttributes(Metric metric)
    {
        ArgumentNullException.ThrowIfNull(metric);
        return metric.DataCase switch
        {
            Metric.DataOneofCase.Gauge => metric.Gauge.DataPoints.Select(p => (IReadOnlyDictionary<string, object?>)Attributes(p.Attributes)),
            Metric.DataOneofCase.Sum => metric.Sum.DataPoints.Select(p => (IReadOnlyDictionary<string, object?>)Attributes(p.Attributes)),
            Metric.DataOneofCase.Histogram => metric.Histogram.DataPoints.Select(p => (IReadOnlyDictionary<string, object?>)Attributes(p.Attributes)),
            _ => [],
        };
    }

    /// <summary>A trace or span id as lower-case hex, as in traceparent and <see cref="System.Diagnostics.ActivityTraceId.ToHexString"/>.</summary>
    public static string Hex(ByteString? id) => id is null ? string.Empty : Convert.ToHexStringLower(id.Span);

    /// <summary>Every string an attribute set holds: keys and values, nested ones included.</summary>
    public static IEnumerable<string> Strings(IEnumerable<KeyValue> attributes)
    {
        foreach (var attribute in attributes)
        {
            yield return attribute.Key;
            foreach (var text in Strings(attribute.Value))
            {
                yield return text;
            }
        }
    }

    /// <summary>Every string a value holds, nested ones included; bytes read as UTF-8.</summary>
    public static IEnumerable<string> Strings(AnyValue? value)
    {
        if (value is null)
        {
            yield break;
        }

        switch (value.ValueCase)
        {
            case AnyValue.ValueOneofCase.StringValue:
                yield return value.StringValue;
                break;
            case AnyValue.ValueOneofCase.BytesValue:
                yield return value.BytesValue.ToStringUtf8();
                break;
            case AnyValue.ValueOneofCase.ArrayValue:
                foreach (var item in value.ArrayValue.Values)
                {
                    foreach (var text in Strings(item))
                    {
                        yield return text;
                    }
                }

                break;
            case AnyValue.ValueOneofCase.KvlistValue:
                foreach (var text in Strings(value.KvlistValue.Values))
                {
                    yield return text;
                }

                break;
            default:
                yield return value.ToString();
                break;
        }
    }

    private static object? Value(AnyValue? value) => value?.ValueCase switch
    {
        AnyValue.ValueOneofCase.StringValue => value.StringValue,
        AnyValue.ValueOneofCase.BoolValue => value.BoolValue,
        AnyValue.ValueOneofCase.IntValue => value.IntValue,
        AnyValue.ValueOneofCase.DoubleValue => value.DoubleValue,
        AnyValue.ValueOneofCase.ArrayValue => value.ArrayValue.Values.Select(Value).ToList(),
        AnyValue.ValueOneofCase.BytesValue => value.BytesValue.ToByteArray(),
        _ => null,
    };
}
