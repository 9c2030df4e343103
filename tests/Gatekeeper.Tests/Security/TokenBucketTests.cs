using Gatekeeper.Policy;
using Gatekeeper.Security;

namespace Gatekeeper.Tests.Security;

/// <summary>The per-caller token bucket on a manual clock.</summary>
public sealed class TokenBucketTests
{
    private readonly ManualTimeProvider _time = new();

    private CallerRateLimiter Limiter(double perSecond = 10, int burst = 5) => new(new RateLimitOptions { PermitsPerSecond = perSecond, Burst = burst }, _time);

    [Fact]
    public void TryAcquire_BurstUsedUp_RefusedWithWaitUntilNextToken()
    {
        var limiter = Limiter(perSecond: 10, burst: 5);
        for (var i = 0; i < 5; i++)
        {
            Assert.True(limiter.TryAcquire("a", null, out _));
        }

        Assert.False(limiter.TryAcquire("a", null, out var retryAfter));
        Assert.Equal(TimeSpan.FromMilliseconds(100), retryAfter);
    }

    [Fact]
    public void TryAcquire_TimePasses_TokensRefillUpToBurstOnly()
    {
        var limiter = Limiter(perSecond: 10, burst: 5);
        for (var i = 0; i < 5; i++)
        {
            limiter.TryAcquire("a", null, out _);
        }

        _time.Advance(TimeSpan.FromMilliseconds(250));
        Assert.True(limiter.TryAcquire("a", null, out _));
        Assert.True(limiter.TryAcquire("a", null, out _));
        Assert.False(limiter.TryAcquire("a", null, out var retryAfter));
        Assert.Equal(TimeSpan.FromMilliseconds(50), retryAfter);

        _time.Advance(TimeSpan.FromHours(1));
        var granted = 0;
        while (limiter.TryAcquire("a", null, out _))
        {
            granted++;
        }

        Assert.Equal(5, granted);
    }

    [Fact]
    public void TryAcquire_ListedCallers_EachHasItsOwnBucket()
    {
        var policy = CallersPolicy("callers:\n  a:\n    admin: '*'\n    rate_limit: { per_second: 1, burst: 1 }\n  b:\n    admin: '*'\n    rate_limit: { per_second: 1, burst: 1 }\n");
        var limiter = Limiter();
        policy.TryGet("a", out var a);
        policy.TryGet("b", out var b);

        Assert.True(limiter.TryAcquire("a", a, out _));
        Assert.False(limiter.TryAcquire("a", a, out _));
        Assert.True(limiter.TryAcquire("b", b, out _));
    }

    [Fact]
    public void TryAcquire_UnlistedCallers_ShareOneBucket()
    {
        var limiter = Limiter(perSecond: 1, burst: 2);

        Assert.True(limiter.TryAcquire("stranger-1", null, out _));
        Assert.True(limiter.TryAcquire("stranger-2", null, out _));

        Assert.False(limiter.TryAcquire("stranger-3", null, out _));
    }

    [Fact]
    public void TryAcquire_DefaultOffAndNoPolicyLimit_NeverRefused()
    {
        var limiter = Limiter(perSecond: 0);

        for (var i = 0; i < 10_000; i++)
        {
            Assert.True(limiter.TryAcquire("a", null, out _));
        }
    }

    [Fact]
    public void TryAcquire_SlowRate_RetryAfterRoundedUpToWholeMilliseconds()
    {
        var limiter = Limiter(perSecond: 3, burst: 1);
        limiter.TryAcquire("a", null, out _);

        Assert.False(limiter.TryAcquire("a", null, out var retryAfter));

        Assert.Equal(TimeSpan.FromMilliseconds(334), retryAfter);
    }

    private static CallerPolicy CallersPolicy(string yaml)
    {
        var folder = Directory.CreateTempSubdirectory("gk-rate-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, "p.yaml"), """
                categories: { c: { class: personal } }
                recipient_classes: { k: { description: k } }
                recipients: { r: { class: k } }
                purposes: { p: { description: p } }
                rules:
                  - id: r1
                    effect: deny
                    categories: '*'
                    recipients: '*'
                    purposes: '*'
                    reason: r
                    source: s
                """ + "\n" + yaml);
            var result = PolicyLoader.LoadPath(folder);
            Assert.True(result.IsValid, string.Join("\n", result.Errors));
            return result.Policy!.Callers;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
