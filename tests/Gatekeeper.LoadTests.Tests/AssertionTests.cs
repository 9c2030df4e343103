namespace Gatekeeper.LoadTests.Tests;

public sealed class AssertionTests
{
    [Fact]
    public void ParseList_IssueExample_ParsesMetricsOperatorsAndUnits()
    {
        var list = Assertion.ParseList("p99<5ms,rate>=20000,errors=0,p99.9<=800us,rss<200MB");

        Assert.Equal(5, list.Count);
        Assert.Equal(("p99", "<", 5_000_000.0), (list[0].Metric, list[0].Operator, list[0].Threshold));
        Assert.Equal(("rate", ">=", 20_000.0), (list[1].Metric, list[1].Operator, list[1].Threshold));
        Assert.Equal(("errors", "=", 0.0), (list[2].Metric, list[2].Operator, list[2].Threshold));
        Assert.Equal(("p99.9", "<=", 800_000.0), (list[3].Metric, list[3].Operator, list[3].Threshold));
        Assert.Equal(200.0 * 1024 * 1024, list[4].Threshold);
    }

    [Fact]
    public void ParseList_SeveralBadTerms_NamesEveryOne()
    {
        var ex = Assert.Throws<FormatException>(() => Assertion.ParseList("latency<5ms,p99<fast,rate"));

        Assert.Contains("unknown metric 'latency'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("p99 needs a time", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'rate'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Holds_LatencyAboveTarget_Fails()
    {
        var result = Results.With(latenciesNs: [1_000_000, 2_000_000, 9_000_000]);

        Assert.False(Assertion.ParseList("max<5ms")[0].Holds(result, out var measured));
        Assert.True(measured > 5_000_000);
        Assert.True(Assertion.ParseList("p50<5ms")[0].Holds(result, out _));
    }

    [Fact]
    public void Holds_ErrorsCounted_FailsErrorsZero()
    {
        var result = Results.With(latenciesNs: [1_000, 1_000], unavailable: 1);

        Assert.False(Assertion.ParseList("errors=0")[0].Holds(result, out var measured));
        Assert.Equal(1, measured);
        Assert.True(Assertion.ParseList("error_rate<=50%")[0].Holds(result, out _));
    }

    [Fact]
    public void Holds_NoCallsMeasured_FailsEvenLooseTargets()
    {
        var result = Results.With(latenciesNs: []);

        Assert.False(Assertion.ParseList("p99<1h")[0].Holds(result, out _));
    }

    [Fact]
    public void Holds_RssWithoutServerPid_Fails()
    {
        var result = Results.With(latenciesNs: [1_000]);

        Assert.False(Assertion.ParseList("rss<10GB")[0].Holds(result, out var measured));
        Assert.Null(measured);
    }
}

internal static class Results
{
    public static RunResult With(long[] latenciesNs, int unavailable = 0)
    {
        var latency = new LatencyHistogram();
        foreach (var ns in latenciesNs)
        {
            latency.Record(ns);
        }

        var statuses = new long[RunResult.ClientFailure + 1];
        statuses[0] = latenciesNs.Length - unavailable;
        statuses[(int)Protocol.StatusCode.Unavailable] = unavailable;
        return new RunResult
        {
            Scenario = new Scenario(),
            Target = new Uri("http://127.0.0.1:1"),
            StartedAt = DateTimeOffset.UnixEpoch,
            Latency = latency,
            SendLag = new LatencyHistogram(),
            StatusCounts = statuses,
            ClientFailures = [],
            Timeline = [],
            MeasuredSeconds = 1,
            Decisions = latenciesNs.Length,
            DistinctRequests = 0,
            WarmupErrors = 0,
            Interrupted = false,
        };
    }
}
