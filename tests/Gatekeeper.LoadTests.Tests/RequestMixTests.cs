namespace Gatekeeper.LoadTests.Tests;

public sealed class RequestMixTests
{
    [Fact]
    public void NextRequest_DistinctShare_DrawsThatShareOfNewRequests()
    {
        var mix = new RequestMix(new Scenario { DistinctShare = 0.2, HotSetSize = 100 }, "t");
        var random = new Random(1);
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var distinct = 0;

        for (var i = 0; i < 20_000; i++)
        {
            var request = mix.NextRequest(random, out var isDistinct);
            if (isDistinct)
            {
                distinct++;
                Assert.True(keys.Add(request.ToString()), "a distinct request repeated an earlier one");
            }
        }

        Assert.InRange(distinct / 20_000.0, 0.19, 0.21);
        Assert.Equal(distinct, mix.DistinctCount);
    }

    [Fact]
    public void NextRequest_NoDistinctShare_OnlyHotSet()
    {
        var mix = new RequestMix(new Scenario { HotSetSize = 10 }, "t");
        var random = new Random(1);

        for (var i = 0; i < 1000; i++)
        {
            Assert.Contains(mix.NextRequest(random, out var distinct), mix.HotSet);
            Assert.False(distinct);
        }
    }

    [Fact]
    public void WeightedChoice_Weights_DrawnInProportion()
    {
        var choice = WeightedChoice<string>.Over(["a", "b", "c"], new() { ["a"] = 3, ["*"] = 1, ["z"] = 0 });
        var random = new Random(5);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);

        for (var i = 0; i < 50_000; i++)
        {
            var v = choice.Next(random);
            counts[v] = counts.GetValueOrDefault(v) + 1;
        }

        Assert.InRange(counts["a"] / 50_000.0, 0.58, 0.62);
        Assert.InRange(counts["b"] / 50_000.0, 0.18, 0.22);
        Assert.False(counts.ContainsKey("z"));
    }

    [Fact]
    public void NextBatch_BatchSize_HoldsThatManyRequests()
    {
        var mix = new RequestMix(new Scenario { BatchSize = 7, DistinctShare = 1 }, "t");

        var batch = mix.NextBatch(new Random(2), out var distinct);

        Assert.Equal(7, batch.Requests.Count);
        Assert.Equal(7, distinct);
    }
}
