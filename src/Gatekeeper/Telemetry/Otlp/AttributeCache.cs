using System.Runtime.CompilerServices;

namespace Gatekeeper.Telemetry.Otlp;

/// <summary>
/// The encoded KeyValue of span attributes whose key and value are the very same objects span after span: the
/// service tags its spans from pre-built strings and pre-boxed numbers, so most attributes are copied instead of
/// encoded. Only immutable values (strings and boxed primitives) are cached, by reference, never by content; a pair
/// is kept from its second sighting, so values made once per call (a decision id) cost no allocation.
/// </summary>
/// <remarks>Not thread-safe: the span processor uses it under its lock.</remarks>
internal sealed class AttributeCache
{
    private const int Size = 512;
    private readonly Slot[] _slots = new Slot[Size];

    /// <summary>Writes the attribute as span attribute (field 9) from the cache; false when the caller must encode it.</summary>
    public bool TryWrite(ProtobufWriter writer, string key, object value)
    {
        if (value is not (string or int or long or bool or double))
        {
            return false;
        }

        ref var slot = ref _slots[unchecked(RuntimeHelpers.GetHashCode(key) ^ (RuntimeHelpers.GetHashCode(value) * -1640531535)) & (Size - 1)];
        if (!ReferenceEquals(slot.Key, key) || !ReferenceEquals(slot.Value, value))
        {
            slot = new Slot(key, value);
            return false;
        }

        if (slot.Encoded is { } encoded)
        {
            writer.Raw(encoded);
            return true;
        }

        var start = writer.Length;
        SpanEncoder.Attribute(writer, SpanEncoder.SpanAttributesField, key, value);
        slot.Encoded = writer.Written[start..].ToArray();
        return true;
    }

    private struct Slot(string key, object value)
    {
        public readonly string Key = key;
        public readonly object Value = value;
        public byte[]? Encoded;
    }
}
