using System.Security.Cryptography;
using System.Text;
using Gatekeeper.Policy;
using Gatekeeper.Telemetry;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.Caching;

/// <summary>
/// Decisions shared by a fleet through Redis (any <see cref="IDistributedCache"/>). A value is the rule id
/// that decided, signed with the fleet's key over the whole key text; on a hit the outcome is taken from
/// the local policy of the same version. Redis trouble is never the caller's: errors, timeouts, values that
/// fail the signature or name a rule this policy lacks all read as a miss, and a circuit breaker stops
/// asking a Redis that keeps failing.
/// </summary>
public sealed class L2DecisionCache
{
    private const byte FormatVersion = 1;
    private const int MacLength = 16;
    private const int MaxInFlightWrites = 1024;
    private readonly IDistributedCache _cache;
    private readonly CacheOptions _options;
    private readonly byte[] _signingKey;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly DistributedCacheEntryOptions _entryOptions;
    private int _inFlightWrites;

    /// <summary>Creates the L2 cache over <paramref name="cache"/>.</summary>
    public L2DecisionCache(IDistributedCache cache, CacheOptions options, TimeProvider time, ILogger<L2DecisionCache> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _cache = cache;
        _options = options;
        _time = time;
        _logger = logger;
        _signingKey = string.IsNullOrEmpty(options.SigningKey) ? RandomNumberGenerator.GetBytes(32) : Convert.FromBase64String(options.SigningKey);
        _entryOptions = new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = options.L2Ttl };
        Breaker = new CircuitBreaker(options.BreakerFailureThreshold, options.BreakerOpenDuration, time);
        Breaker.StateChanged += state =>
        {
            GatekeeperMetrics.CacheBreakerTransitions.Add(1, new KeyValuePair<string, object?>("gatekeeper.state", state.ToString()));
            CacheLog.BreakerChanged(_logger, state);
        };
    }

    /// <summary>The breaker guarding Redis.</summary>
    public CircuitBreaker Breaker { get; }

    /// <summary>The decision Redis holds for <paramref name="key"/> under <paramref name="policy"/>, or null.</summary>
    public async ValueTask<PolicyOutcome?> TryGetAsync(DecisionKey key, CompiledPolicy policy, CancellationToken cancellationToken)
    {
        if (!Breaker.AllowRequest())
        {
            GatekeeperMetrics.CacheL2Problems.Add(1, GatekeeperMetrics.ProblemSkipped);
            return null;
        }

        var text = key.ToText();
        byte[]? value;
        try
        {
            value = await _cache.GetAsync(text, cancellationToken).WaitAsync(_options.L2LookupTimeout, _time, cancellationToken);
            Breaker.RecordSuccess();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (TimeoutException)
        {
            Breaker.RecordFailure();
            GatekeeperMetrics.CacheL2Problems.Add(1, GatekeeperMetrics.ProblemTimeout);
            CacheLog.LookupTimedOut(_logger, _options.L2LookupTimeout.TotalMilliseconds);
            return null;
        }
        catch (Exception ex)
        {
            Breaker.RecordFailure();
            GatekeeperMetrics.CacheL2Problems.Add(1, GatekeeperMetrics.ProblemError);
            CacheLog.LookupFailed(_logger, ex.GetType().Name, ex.Message);
            return null;
        }

        if (value is null)
        {
            return null;
        }

        if (TryOpen(text, value, out var ruleId) && policy.TryGetOutcome(ruleId, out var outcome))
        {
            return outcome;
        }

        GatekeeperMetrics.CacheL2Problems.Add(1, GatekeeperMetrics.ProblemInvalid);
        CacheLog.InvalidValue(_logger, value.Length);
        return null;
    }

    /// <summary>Stores a decision without making the caller wait; failures are counted, never thrown.</summary>
    public void SetInBackground(DecisionKey key, PolicyOutcome outcome)
    {
        if (Breaker.State != CircuitState.Closed)
        {
            return;
        }

        if (Interlocked.Increment(ref _inFlightWrites) > MaxInFlightWrites)
        {
            // Redis is not keeping up: dropping a cache write only costs a later miss.
            Interlocked.Decrement(ref _inFlightWrites);
            return;
        }

        _ = WriteAsync(key.ToText(), outcome.RuleId);
    }

    private async Task WriteAsync(string text, string ruleId)
    {
        try
        {
            await _cache.SetAsync(text, Seal(text, ruleId), _entryOptions).WaitAsync(TimeSpan.FromSeconds(1), _time);
        }
        catch (Exception ex)
        {
            Breaker.RecordFailure();
            GatekeeperMetrics.CacheL2Problems.Add(1, GatekeeperMetrics.ProblemWriteFailed);
            CacheLog.WriteFailed(_logger, ex.GetType().Name, ex.Message);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlightWrites);
        }
    }

    /// <summary>[format][rule id length][rule id][HMAC-SHA256(key, text 0x00 rule id), first 16 bytes].</summary>
    internal byte[] Seal(string text, string ruleId)
    {
        var rule = Encoding.UTF8.GetBytes(ruleId);
        var value = new byte[2 + rule.Length + MacLength];
        value[0] = FormatVersion;
        value[1] = (byte)rule.Length;
        rule.CopyTo(value, 2);
        Mac(text, rule).AsSpan(0, MacLength).CopyTo(value.AsSpan(2 + rule.Length));
        return value;
    }

    internal bool TryOpen(string text, byte[] value, out string ruleId)
    {
        ruleId = string.Empty;
        if (value.Length < 2 + MacLength || value[0] != FormatVersion || value.Length != 2 + value[1] + MacLength)
        {
            return false;
        }

        var rule = value.AsSpan(2, value[1]);
        var expected = Mac(text, rule);
        if (!CryptographicOperations.FixedTimeEquals(expected.AsSpan(0, MacLength), value.AsSpan(2 + rule.Length)))
        {
            return false;
        }

        ruleId = Encoding.UTF8.GetString(rule);
        return true;
    }

    private byte[] Mac(string text, ReadOnlySpan<byte> rule)
    {
        var content = new byte[Encoding.UTF8.GetByteCount(text) + 1 + rule.Length];
        var written = Encoding.UTF8.GetBytes(text, content);
        content[written] = 0;
        rule.CopyTo(content.AsSpan(written + 1));
        return HMACSHA256.HashData(_signingKey, content);
    }
}
