using Gatekeeper.Redis.Internal;
using Gatekeeper.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;

namespace Gatekeeper.Redis.Tests;

public sealed class RedisCacheTests : IClassFixture<RedisServerFixture>, IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);
    private readonly RedisServer _server;
    private RedisConnection _connection = null!;
    private RedisCache _cache = null!;

    public RedisCacheTests(RedisServerFixture fixture) => _server = fixture.Server;

    public async Task InitializeAsync()
    {
        _connection = await RedisConnection.ConnectAsync(_server.Configuration());
        _cache = new RedisCache(_connection, "gk:");
    }

    public async Task DisposeAsync() => await _connection.DisposeAsync();

    private static string NewKey() => Guid.NewGuid().ToString("N");

    private async Task<long> PttlAsync(string key) => (await _connection.ExecuteAsync("PTTL", "gk:" + key)).Integer;

    [Fact]
    public async Task SetGetRemove_Async_RoundTrip()
    {
        var key = NewKey();

        await _cache.SetAsync(key, [1, 2, 3], new DistributedCacheEntryOptions());

        Assert.Equal([1, 2, 3], await _cache.GetAsync(key));
        Assert.Equal(-1, await PttlAsync(key));
        await _cache.RemoveAsync(key);
        Assert.Null(await _cache.GetAsync(key));
    }

    [Fact]
    public void SetGetRefreshRemove_Sync_RoundTrip()
    {
        var key = NewKey();

        _cache.Set(key, [4, 5], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(1) });
        _cache.Refresh(key);

        Assert.Equal([4, 5], _cache.Get(key));
        _cache.Remove(key);
        Assert.Null(_cache.Get(key));
    }

    [Fact]
    public async Task InstanceName_PrefixesTheRedisKey()
    {
        var key = NewKey();

        await _cache.SetAsync(key, [9], new DistributedCacheEntryOptions());

        var raw = await _connection.GetAsync("gk:" + key);
        Assert.NotNull(raw);
        Assert.Equal(CacheEntryHeader.Size + 1, raw.Length);
        Assert.Null(await _connection.GetAsync(key));
    }

    [Fact]
    public async Task Get_ValueNotWrittenByTheCache_IsAMiss()
    {
        var key = NewKey();
        await _connection.SetAsync("gk:" + key, "plain"u8.ToArray());

        Assert.Null(await _cache.GetAsync(key));
    }

    [Fact]
    public async Task AbsoluteExpiryRelativeToNow_EntryExpires()
    {
        var key = NewKey();

        await _cache.SetAsync(key, [1], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMilliseconds(200) });

        Assert.InRange(await PttlAsync(key), 1, 200);
        await Poll.UntilAsync(async () => await _cache.GetAsync(key) is null, Patience, "the entry expired");
    }

    [Fact]
    public async Task AbsoluteExpiration_InThePast_Throws()
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _cache.SetAsync(
            NewKey(), [1], new DistributedCacheEntryOptions { AbsoluteExpiration = DateTimeOffset.UtcNow.AddSeconds(-1) }));
    }

    [Fact]
    public async Task SlidingExpiry_ReadBeforeWindowEnds_KeepsEntryAlive_ThenExpiresWhenIdle()
    {
        var key = NewKey();
        // A window wide enough that a loaded CI machine (test projects run in parallel on 2 cores) cannot
        // stall between two reads for longer than it: a stall past the window really does expire the entry.
        var window = TimeSpan.FromMilliseconds(2000);
        await _cache.SetAsync(key, [7], new DistributedCacheEntryOptions { SlidingExpiration = window });

        // Read for two and a half windows; without the slide the entry would be gone after the first.
        var until = DateTime.UtcNow + (2.5 * window);
        while (DateTime.UtcNow < until)
        {
            Assert.Equal([7], await _cache.GetAsync(key));
            Assert.InRange(await PttlAsync(key), 500, 2000);
            await Task.Delay(100);
        }

        await Poll.UntilAsync(async () => await _connection.GetAsync("gk:" + key) is null, Patience, "the idle entry expired");
    }

    [Fact]
    public async Task Refresh_SlidingEntry_ResetsTheWindowWithoutReadingTheValue()
    {
        var key = NewKey();
        await _cache.SetAsync(key, new byte[1000], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMilliseconds(1000) });
        await Poll.UntilAsync(async () => await PttlAsync(key) < 700, Patience, "part of the window passed");

        await _cache.RefreshAsync(key);

        Assert.InRange(await PttlAsync(key), 800, 1000);
    }

    [Fact]
    public async Task SlidingExpiry_NeverOutlivesAbsoluteExpiry()
    {
        var key = NewKey();
        await _cache.SetAsync(key, [1], new DistributedCacheEntryOptions
        {
            SlidingExpiration = TimeSpan.FromSeconds(30),
            AbsoluteExpirationRelativeToNow = TimeSpan.FromMilliseconds(400),
        });

        Assert.InRange(await PttlAsync(key), 1, 400);
        await Poll.UntilAsync(
            async () =>
            {
                var value = await _cache.GetAsync(key);
                var pttl = await PttlAsync(key);
                Assert.True(pttl <= 400, $"a read must not push the expiry past the absolute one (PTTL {pttl})");
                return value is null;
            },
            Patience,
            "the entry expired at its absolute expiry despite reads");
    }

    [Fact]
    public async Task AddGatekeeperRedisCache_ResolvesAWorkingDistributedCache()
    {
        var services = new ServiceCollection()
            .AddGatekeeperRedisCache(o =>
            {
                o.Configuration = _server.Configuration("syncTimeout=2000");
                o.InstanceName = "di:";
            });
        await using var provider = services.BuildServiceProvider();
        var cache = provider.GetRequiredService<IDistributedCache>();
        var connection = provider.GetRequiredService<RedisConnection>();
        await Poll.UntilAsync(() => connection.State == RedisConnectionState.Connected, Patience, "the DI connection connected");

        await cache.SetStringAsync("k", "v");

        Assert.IsType<RedisCache>(cache);
        Assert.Equal("v", await cache.GetStringAsync("k"));
        Assert.NotNull(await _connection.GetAsync("di:k"));
    }

    [Fact]
    public async Task OwnConnection_FromOptions_WorksAndIsDisposedWithTheCache()
    {
        var options = new RedisCacheOptions { Configuration = _server.Configuration(), InstanceName = "own:" };
        var cache = new RedisCache(options);
        await Poll.UntilAsync(() => cache.Connection.State == RedisConnectionState.Connected, Patience, "connected");

        await cache.SetAsync("k", [1], new DistributedCacheEntryOptions());
        Assert.Equal([1], await cache.GetAsync("k"));
        await cache.DisposeAsync();

        Assert.Equal(RedisConnectionState.Disposed, cache.Connection.State);
    }
}
