namespace Gatekeeper.Caching;

/// <summary>Settings of the decision cache, bound from <c>Gatekeeper:Cache</c>.</summary>
public sealed class CacheOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Gatekeeper:Cache";

    /// <summary>
    /// Most decisions kept in process. Defaults to 20,000: a council's systems repeat a few thousand questions, and
    /// a miss costs a policy evaluation about as cheap as the lookup, so a larger L1 buys memory, not speed (at
    /// 100,000 the service peaked at 285 MB RSS under the realistic load mix, at 20,000 at 231 MB).
    /// </summary>
    public int L1MaxEntries { get; set; } = 20_000;

    /// <summary>Most bytes (estimated from the keys' text) kept in process. Defaults to 8 MiB.</summary>
    public long L1MaxBytes { get; set; } = 8L * 1024 * 1024;

    /// <summary>How long a decision stays in Redis. Defaults to 10 minutes; keys carry the policy version anyway.</summary>
    public TimeSpan L2Ttl { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How long a call waits for Redis before it evaluates locally instead. Defaults to 20 ms: a local
    /// evaluation is far cheaper, so a slow Redis must never be worth waiting for.
    /// </summary>
    public TimeSpan L2LookupTimeout { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Consecutive Redis failures that open the circuit. Defaults to 5.</summary>
    public int BreakerFailureThreshold { get; set; } = 5;

    /// <summary>How long an open circuit skips Redis before one probe may try again. Defaults to 5 seconds.</summary>
    public TimeSpan BreakerOpenDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Base64 key (at least 16 bytes) that signs decisions stored in Redis, so that a value this fleet did not
    /// write is never served. Give every instance of a fleet the same key to share decisions between them.
    /// When empty, each process signs with a random key of its own (no sharing, still safe).
    /// </summary>
    public string? SigningKey { get; set; }

    internal IEnumerable<string> Validate()
    {
        if (L1MaxEntries < 0)
        {
            yield return $"{Section}:L1MaxEntries must be 0 (off) or more (was {L1MaxEntries}).";
        }

        if (L1MaxBytes < 0)
        {
            yield return $"{Section}:L1MaxBytes must be 0 (off) or more (was {L1MaxBytes}).";
        }

        if (L2Ttl <= TimeSpan.Zero)
        {
            yield return $"{Section}:L2Ttl must be positive (was {L2Ttl}).";
        }

        if (L2LookupTimeout <= TimeSpan.Zero)
        {
            yield return $"{Section}:L2LookupTimeout must be positive (was {L2LookupTimeout}).";
        }

        if (BreakerFailureThreshold < 1)
        {
            yield return $"{Section}:BreakerFailureThreshold must be at least 1 (was {BreakerFailureThreshold}).";
        }

        if (BreakerOpenDuration <= TimeSpan.Zero)
        {
            yield return $"{Section}:BreakerOpenDuration must be positive (was {BreakerOpenDuration}).";
        }

        if (!string.IsNullOrEmpty(SigningKey) && !(IsBase64(SigningKey, out var length) && length >= 16))
        {
            yield return $"{Section}:SigningKey must be base64 of at least 16 bytes.";
        }
    }

    private static bool IsBase64(string value, out int length)
    {
        var buffer = new byte[value.Length];
        var ok = Convert.TryFromBase64String(value, buffer, out length);
        return ok;
    }
}
