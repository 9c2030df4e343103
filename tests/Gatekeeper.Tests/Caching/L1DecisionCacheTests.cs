using Gatekeeper.Caching;
using Gatekeeper.Policy;

namespace Gatekeeper.Tests.Caching;

public sealed class L1DecisionCacheTests
{
    private static readonly PolicyOutcome Outcome = new(PolicyEffect.Deny, "r", "reason", LawfulBasis.None, [], "source");

    private static DecisionKey Key(int i) => DecisionKey.For("v1", new PolicyQuery("c" + i, "r", "p"));

    [Fact]
    public void TryGet_AfterSet_ReturnsTheSameOutcome()
    {
        var cache = new L1DecisionCache(100, 1 << 20);
        cache.Set(Key(1), Outcome);
        Assert.True(cache.TryGet(Key(1), out var found));
        Assert.Same(Outcome, found);
        Assert.False(cache.TryGet(Key(2), out _));
    }

    [Fact]
    public void Set_ManyMoreThanTheLimit_NeverHoldsMoreThanTheLimit()
    {
        var cache = new L1DecisionCache(1000, 1 << 30);
        for (var i = 0; i < 50_000; i++)
        {
            cache.Set(Key(i), Outcome);
            Assert.True(cache.Count <= 1000, $"{cache.Count} entries after {i}");
        }
    }

    [Fact]
    public void Set_ByteLimit_BoundsTheEntries()
    {
        var cache = new L1DecisionCache(1_000_000, 64 * 1024);
        for (var i = 0; i < 10_000; i++)
        {
            cache.Set(Key(i), Outcome);
        }

        Assert.InRange(cache.Count, 1, 400);
    }

    [Fact]
    public void TryGet_EntryUsedWhileOld_SurvivesTheNextTurn()
    {
        var cache = new L1DecisionCache(10, 1 << 20);
        cache.Set(Key(0), Outcome);
        for (var i = 1; i < 5; i++)
        {
            cache.Set(Key(i), Outcome); // the young generation (5) fills: key 0 is now old
        }

        Assert.True(cache.TryGet(Key(0), out _)); // promoted back to young
        for (var i = 100; i < 104; i++)
        {
            cache.Set(Key(i), Outcome);
        }

        Assert.True(cache.TryGet(Key(0), out _));
        Assert.False(cache.TryGet(Key(1), out _));
    }

    [Fact]
    public void Clear_DropsEverything()
    {
        var cache = new L1DecisionCache(100, 1 << 20);
        cache.Set(Key(1), Outcome);
        cache.Clear();
        Assert.False(cache.TryGet(Key(1), out _));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void Set_WhenSizedZero_CachesNothing()
    {
        var cache = new L1DecisionCache(0, 0);
        cache.Set(Key(1), Outcome);
        Assert.False(cache.Enabled);
        Assert.False(cache.TryGet(Key(1), out _));
    }

    [Fact]
    public async Task SetAndTryGet_FromManyThreads_StayBoundedAndConsistent()
    {
        var cache = new L1DecisionCache(2000, 1 << 30);
        var tasks = new Task[8];
        for (var t = 0; t < tasks.Length; t++)
        {
            var offset = t * 10_000;
            tasks[t] = Task.Run(() =>
            {
                for (var i = 0; i < 10_000; i++)
                {
                    cache.Set(Key(offset + i), Outcome);
                    if (cache.TryGet(Key(offset + i), out var found))
                    {
                        Assert.Same(Outcome, found);
                    }
                }
            });
        }

        await Task.WhenAll(tasks);
        Assert.True(cache.Count <= 2000 + tasks.Length, $"{cache.Count}");
    }
}
