using System.Collections.Concurrent;
using Gatekeeper.Policy;

namespace Gatekeeper.Security;

/// <summary>
/// One token bucket per caller: <see cref="CallerRateLimit.PerSecond"/> tokens a second up to
/// <see cref="CallerRateLimit.Burst"/>, one token per call. A caller's own limit comes from its policy entry,
/// else from <see cref="RateLimitOptions"/>. Callers the policy does not list share one bucket (they are refused
/// anyway, but each refusal is audited, so their volume is capped too) and so the bucket table is bounded by the
/// policy, not by what certificates a CA has issued.
/// </summary>
public sealed class CallerRateLimiter
{
    private const string UnlistedKey = "\0unlisted";
    private readonly ConcurrentDictionary<string, TokenBucket> _buckets = new(StringComparer.Ordinal);
    private readonly CallerRateLimit? _default;
    private readonly TimeProvider _time;

    /// <summary>Creates the limiter; <paramref name="defaults"/> with PermitsPerSecond 0 limits only callers whose policy entry says so.</summary>
    public CallerRateLimiter(RateLimitOptions defaults, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(defaults);
        _default = defaults.PermitsPerSecond > 0 ? new CallerRateLimit(defaults.PermitsPerSecond, defaults.Burst) : null;
        _time = time;
    }

    /// <summary>Takes one token for this call; false (with the wait until the next token) when the caller is over its limit.</summary>
    public bool TryAcquire(string caller, CallerEntitlement? entitlement, out TimeSpan retryAfter)
    {
        var limit = entitlement?.RateLimit ?? _default;
        if (limit is null || limit.IsUnlimited)
        {
            retryAfter = TimeSpan.Zero;
            return true;
        }

        var key = entitlement is null ? UnlistedKey : caller;
        if (!_buckets.TryGetValue(key, out var bucket))
        {
            bucket = _buckets.GetOrAdd(key, static (_, s) => new TokenBucket(s.limit, s.now), (limit, now: _time.GetTimestamp()));
        }

        return bucket.TryTake(limit, _time.GetTimestamp(), _time.TimestampFrequency, out retryAfter);
    }
}

/// <summary>A token bucket refilled continuously from timestamps (no timer); a lock per caller, held for a few instructions.</summary>
internal sealed class TokenBucket
{
    private readonly Lock _lock = new();
    private double _tokens;
    private long _last;
    private CallerRateLimit _limit;

    public TokenBucket(CallerRateLimit limit, long now)
    {
        _limit = limit;
        _tokens = limit.Burst;
        _last = now;
    }

    public bool TryTake(CallerRateLimit limit, long now, long frequency, out TimeSpan retryAfter)
    {
        lock (_lock)
        {
            if (!ReferenceEquals(limit, _limit))
            {
                // A policy reload changed this caller's limit: keep what it has used, within the new size.
                _limit = limit;
                _tokens = Math.Min(_tokens, limit.Burst);
            }

            if (now > _last)
            {
                _tokens = Math.Min(limit.Burst, _tokens + ((now - _last) * limit.PerSecond / frequency));
                _last = now;
            }

            if (_tokens >= 1)
            {
                _tokens -= 1;
                retryAfter = TimeSpan.Zero;
                return true;
            }

            // Rounded up to whole milliseconds, at least one: a retry sooner than that would be refused again.
            var seconds = (1 - _tokens) / limit.PerSecond;
            retryAfter = TimeSpan.FromMilliseconds(Math.Max(1, Math.Ceiling(seconds * 1000)));
            return false;
        }
    }
}
