using Gatekeeper.Telemetry.Otlp;

namespace Gatekeeper.Tests.Telemetry;

public sealed class AttributeCacheTests
{
    private static byte[] Encoded(string key, object value)
    {
        var writer = new ProtobufWriter(64);
        SpanEncoder.Attribute(writer, SpanEncoder.SpanAttributesField, key, value);
        return writer.Written.ToArray();
    }

    [Fact]
    public void TryWrite_SameObjects_LeftToTheCallerOnceThenWrittenAsEncoded()
    {
        var cache = new AttributeCache();
        object value = 42;
        var writer = new ProtobufWriter(64);

        Assert.False(cache.TryWrite(writer, "gatekeeper.n", value));
        Assert.Equal(0, writer.Length);
        Assert.True(cache.TryWrite(writer, "gatekeeper.n", value));
        Assert.True(cache.TryWrite(writer, "gatekeeper.n", value));

        var once = Encoded("gatekeeper.n", value);
        Assert.Equal([.. once, .. once], writer.Written.ToArray());
    }

    [Fact]
    public void TryWrite_EqualButDifferentObjects_NeverServedFromTheCache()
    {
        var cache = new AttributeCache();
        var writer = new ProtobufWriter(64);

        // A string built per call is a new object each time, however equal.
        for (var i = 0; i < 3; i++)
        {
            Assert.False(cache.TryWrite(writer, "gatekeeper.decision_id", string.Concat("01J", "ABC")));
        }

        Assert.Equal(0, writer.Length);
    }

    [Fact]
    public void TryWrite_MutableValue_NeverCached()
    {
        var cache = new AttributeCache();
        var values = new[] { "a" };
        var writer = new ProtobufWriter(64);

        for (var i = 0; i < 3; i++)
        {
            Assert.False(cache.TryWrite(writer, "list", values));
        }
    }
}
