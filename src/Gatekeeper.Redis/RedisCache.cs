using Gatekeeper.Redis.Internal;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gatekeeper.Redis;

/// <summary>
/// <see cref="IDistributedCache"/> on Redis through <see cref="RedisConnection"/>. Each entry is one Redis string:
/// a 17-byte header (absolute expiry, sliding window) followed by the value, stored with SET ... PX so that Redis
/// itself removes it when it expires. A read of a sliding entry pushes its expiry forward (never past the absolute
/// expiry). Values written by other clients (or by StackExchange.Redis's hash layout) read as misses.
/// While Redis is unreachable every call fails at once with <see cref="RedisConnectionException"/>, so that a
/// caller can fall back without waiting.
/// </summary>
public sealed class RedisCache : IDistributedCache, IAsyncDisposable, IDisposable
{
    private readonly RedisConnection _connection;
    private readonly bool _ownsConnection;
    private readonly string? _prefix;
    private readonly TimeProvider _time;

    /// <summary>Creates the cache and its own connection from the options (connecting in the background).</summary>
    public RedisCache(IOptions<RedisCacheOptions> optionsAccessor)
        : this(optionsAccessor, null, null)
    {
    }

    /// <summary>Creates the cache and its own connection from the options (connecting in the background).</summary>
    /// <exception cref="FormatException">The configuration string is invalid.</exception>
    public RedisCache(IOptions<RedisCacheOptions> optionsAccessor, ILoggerFactory? loggerFactory, TimeProvider? timeProvider)
    {
        ArgumentNullException.ThrowIfNull(optionsAccessor);
        var options = optionsAccessor.Value;
        _time = timeProvider ?? TimeProvider.System;
        _prefix = string.IsNullOrEmpty(options.InstanceName) ? null : options.InstanceName;
        _connection = RedisConnection.Connect(options.CreateConnectionOptions(), loggerFactory, _time);
        _ownsConnection = true;
    }

    /// <summary>Creates the cache over an existing connection, which it does not dispose.</summary>
    public RedisCache(RedisConnection connection, string? instanceName, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _connection = connection;
        _prefix = string.IsNullOrEmpty(instanceName) ? null : instanceName;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The connection, for its <see cref="RedisConnection.State"/> and pub/sub.</summary>
    public RedisConnection Connection => _connection;

    /// <inheritdoc />
    public byte[]? Get(string key) => GetAsync(key).GetAwaiter().GetResult();

    /// <inheritdoc />
    public async Task<byte[]?> GetAsync(string key, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        var stored = await _connection.GetAsync(_prefix, key, token).ConfigureAwait(false);
        if (stored is null || !CacheEntryHeader.TryRead(stored, out var absolute, out var sliding))
        {
            return null;
        }

        if (sliding > 0 && !await SlideAsync(key, absolute, sliding, token).ConfigureAwait(false))
        {
            return null;
        }

        return stored.AsSpan(CacheEntryHeader.Size).ToArray();
    }

    /// <inheritdoc />
    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => SetAsync(key, value, options).GetAwaiter().GetResult();

    /// <inheritdoc />
    public async Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(options);
        var now = _time.GetUtcNow();
        if (options.AbsoluteExpiration is { } requested && requested <= now)
        {
            throw new ArgumentOutOfRangeException(nameof(options), requested, "The absolute expiration value must be in the future.");
        }

        // As Microsoft's caches: a relative expiry wins over an absolute one.
        var absolute = options.AbsoluteExpirationRelativeToNow is { } relative ? now + relative : options.AbsoluteExpiration;
        var sliding = options.SlidingExpiration;
        TimeSpan? ttl = sliding;
        if (absolute is { } at && (ttl is null || at - now < ttl))
        {
            ttl = at - now;
        }

        var header = new byte[CacheEntryHeader.Size];
        CacheEntryHeader.Write(
            header,
            absolute?.ToUnixTimeMilliseconds() ?? -1,
            sliding is { } s ? Math.Max(1, (long)s.TotalMilliseconds) : -1);
        await _connection.SetAsync(_prefix, key, header, value, ttl, token).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public void Refresh(string key) => RefreshAsync(key).GetAwaiter().GetResult();

    /// <inheritdoc />
    public async Task RefreshAsync(string key, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(key);

        // Only the header: refreshing must not transfer the value.
        var head = await _connection.GetRangeAsync(_prefix, key, 0, CacheEntryHeader.Size - 1, token).ConfigureAwait(false);
        if (CacheEntryHeader.TryRead(head, out var absolute, out var sliding) && sliding > 0)
        {
            await SlideAsync(key, absolute, sliding, token).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public void Remove(string key) => RemoveAsync(key).GetAwaiter().GetResult();

    /// <inheritdoc />
    public async Task RemoveAsync(string key, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        await _connection.DeleteAsync(_prefix, key, token).ConfigureAwait(false);
    }

    /// <summary>Moves the expiry to now + sliding, capped by the absolute expiry. False when the entry is already past it.</summary>
    private async ValueTask<bool> SlideAsync(string key, long absoluteUnixMs, long slidingMs, CancellationToken token)
    {
        var ttl = slidingMs;
        if (absoluteUnixMs >= 0)
        {
            ttl = Math.Min(ttl, absoluteUnixMs - _time.GetUtcNow().ToUnixTimeMilliseconds());
            if (ttl <= 0)
            {
                return false;
            }
        }

        await _connection.ExpireAsync(_prefix, key, TimeSpan.FromMilliseconds(ttl), token).ConfigureAwait(false);
        return true;
    }

    /// <summary>Disposes the connection if this cache created it.</summary>
    public ValueTask DisposeAsync() => _ownsConnection ? _connection.DisposeAsync() : ValueTask.CompletedTask;

    /// <inheritdoc cref="DisposeAsync"/>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
