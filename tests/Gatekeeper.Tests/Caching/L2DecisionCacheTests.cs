using Gatekeeper.Caching;
using Gatekeeper.Policy;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Gatekeeper.Tests.Caching;

/// <summary>
/// The signing and failure handling of the L2 cache over an in-memory IDistributedCache; the same code against
/// a real redis-server is in the functional tests.
/// </summary>
public sealed class L2DecisionCacheTests
{
    private static readonly string Key16 = Convert.ToBase64String(new byte[16] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 });
    private readonly ManualTimeProvider _time = new();

    private static CompiledPolicy DefaultPolicy()
    {
        var result = PolicyLoader.LoadPath(Path.Combine(AppContext.BaseDirectory, "policies"));
        return result.Policy ?? throw new InvalidOperationException(string.Join('\n', result.Errors));
    }

    private L2DecisionCache Create(IDistributedCache store, string? signingKey = null) =>
        new(store, new CacheOptions { SigningKey = signingKey ?? Key16, BreakerFailureThreshold = 2 }, _time, NullLogger<L2DecisionCache>.Instance);

    private static MemoryDistributedCache Store() => new(Options.Create(new MemoryDistributedCacheOptions()));

    [Fact]
    public void Seal_ThenOpen_GivesTheRuleBack()
    {
        var cache = Create(Store());
        Assert.True(cache.TryOpen("k", cache.Seal("k", "cpis_alert"), out var rule));
        Assert.Equal("cpis_alert", rule);
    }

    [Fact]
    public void Open_ValueSealedForAnotherKeyOrByAnotherFleet_IsRefused()
    {
        var cache = Create(Store());
        var other = Create(Store(), Convert.ToBase64String(new byte[16]));
        Assert.False(cache.TryOpen("k2", cache.Seal("k", "cpis_alert"), out _));
        Assert.False(cache.TryOpen("k", other.Seal("k", "cpis_alert"), out _));
    }

    [Fact]
    public void Open_AnyFlippedByte_IsRefused()
    {
        var cache = Create(Store());
        var sealedValue = cache.Seal("k", "cpis_alert");
        for (var i = 0; i < sealedValue.Length; i++)
        {
            var copy = (byte[])sealedValue.Clone();
            copy[i] ^= 0x01;
            Assert.False(cache.TryOpen("k", copy, out _), $"byte {i}");
        }

        Assert.False(cache.TryOpen("k", [], out _));
        Assert.False(cache.TryOpen("k", sealedValue[..^1], out _));
    }

    [Fact]
    public async Task TryGet_AfterAWriteBySameFleet_ReturnsThePolicysOwnOutcome()
    {
        var store = Store();
        var policy = DefaultPolicy();
        var writer = Create(store);
        var reader = Create(store);
        var query = new PolicyQuery("cpis_flag", "nhs_cpis", "cpis_alert", SubjectStatuses: ["looked_after"]);
        var key = DecisionKey.For(policy.Version, query);
        var outcome = policy.Evaluate(query);

        writer.SetInBackground(key, outcome);
        PolicyOutcome? found = null;
        for (var i = 0; i < 100 && found is null; i++)
        {
            found = await reader.TryGetAsync(key, policy, CancellationToken.None);
            await Task.Delay(10);
        }

        Assert.Same(outcome, found);
    }

    [Fact]
    public async Task TryGet_ForgedAllowInTheStore_IsAMissNotAnAllow()
    {
        var store = Store();
        var policy = DefaultPolicy();
        var cache = Create(store);
        var query = new PolicyQuery("child_protection", "media", "publication");
        var key = DecisionKey.For(policy.Version, query);
        await store.SetAsync(key.ToText(), [1, 10, .. "cpis_alert"u8.ToArray(), .. new byte[16]]);

        Assert.Null(await cache.TryGetAsync(key, policy, CancellationToken.None));
    }

    [Fact]
    public async Task TryGet_SignedRuleThePolicyLacks_IsAMiss()
    {
        var store = Store();
        var policy = DefaultPolicy();
        var cache = Create(store);
        var key = DecisionKey.For(policy.Version, new PolicyQuery("education", "police", "child_protection"));
        await store.SetAsync(key.ToText(), cache.Seal(key.ToText(), "no_such_rule"));

        Assert.Null(await cache.TryGetAsync(key, policy, CancellationToken.None));
    }

    [Fact]
    public async Task TryGet_StoreThrows_IsAMissAndOpensTheCircuit()
    {
        var cache = Create(new FailingCache());
        var policy = DefaultPolicy();
        var key = DecisionKey.For(policy.Version, new PolicyQuery("education", "police", "child_protection"));

        Assert.Null(await cache.TryGetAsync(key, policy, CancellationToken.None));
        Assert.Null(await cache.TryGetAsync(key, policy, CancellationToken.None));
        Assert.Equal(CircuitState.Open, cache.Breaker.State);
        Assert.Null(await cache.TryGetAsync(key, policy, CancellationToken.None)); // skipped, no throw
    }

    private sealed class FailingCache : IDistributedCache
    {
        public byte[]? Get(string key) => throw new IOException("down");
        public Task<byte[]?> GetAsync(string key, CancellationToken token = default) => Task.FromException<byte[]?>(new IOException("down"));
        public void Refresh(string key) => throw new IOException("down");
        public Task RefreshAsync(string key, CancellationToken token = default) => Task.FromException(new IOException("down"));
        public void Remove(string key) => throw new IOException("down");
        public Task RemoveAsync(string key, CancellationToken token = default) => Task.FromException(new IOException("down"));
        public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => throw new IOException("down");
        public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default) => Task.FromException(new IOException("down"));
    }
}
