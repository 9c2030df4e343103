namespace Gatekeeper.LoadTests.Tests;

public sealed class LatencyHistogramTests
{
    [Fact]
    public void ValueAtPercentile_UniformMicroseconds_WithinBucketPrecision()
    {
        var histogram = new LatencyHistogram();
        for (long us = 1; us <= 100_000; us++)
        {
            histogram.Record(us * 1000);
        }

        foreach (var (p, expected) in new[] { (50.0, 50_000_000.0), (99.0, 99_000_000.0), (99.9, 99_900_000.0) })
        {
            var value = histogram.ValueAtPercentile(p);
            Assert.InRange(value, expected, expected * 1.016);
        }
    }

    [Fact]
    public void IndexOf_AnyValue_FallsInsideItsBucket()
    {
        var random = new Random(3);
        for (var i = 0; i < 100_000; i++)
        {
            var value = (long)Math.Pow(10, random.NextDouble() * 12);
            var index = LatencyHistogram.IndexOf(value);
            Assert.True(LatencyHistogram.HighestEquivalentValue(index) >= value, $"value {value} above its bucket {index}");
            Assert.True(index == 0 || LatencyHistogram.HighestEquivalentValue(index - 1) < value, $"value {value} belongs below bucket {index}");
        }
    }

    [Fact]
    public void MaxMinMean_RecordedValues_Exact()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(1_234_567);
        histogram.Record(3);
        histogram.Record(-5);

        Assert.Equal(1_234_567, histogram.Max);
        Assert.Equal(0, histogram.Min);
        Assert.Equal((1_234_567 + 3) / 3.0, histogram.Mean, 6);
        Assert.Equal(1_234_567, histogram.ValueAtPercentile(100));
    }

    [Fact]
    public void Record_ManyThreads_LosesNoValue()
    {
        var histogram = new LatencyHistogram();
        Parallel.For(0, 8, _ =>
        {
            for (var i = 0; i < 50_000; i++)
            {
                histogram.Record(i);
            }
        });

        Assert.Equal(400_000, histogram.Count);
    }
}
