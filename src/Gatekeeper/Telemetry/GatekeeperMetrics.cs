using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Gatekeeper.Telemetry;

/// <summary>
/// The service's instruments, on the <c>Gatekeeper</c> meter. Nothing is recorded unless a listener
/// (OpenTelemetry, dotnet-counters) is attached. Tag sets that repeat are built once.
/// </summary>
public static class GatekeeperMetrics
{
    /// <summary>Name of the meter.</summary>
    public const string MeterName = "Gatekeeper";

    private static readonly Meter Meter = new(MeterName, "1.0");

    /// <summary>Decisions answered, by cache tier.</summary>
    public static readonly Counter<long> CacheLookups = Meter.CreateCounter<long>("gatekeeper.cache.lookups", "{lookup}", "Decisions by the cache tier that answered: l1, l2 or miss (evaluated).");

    /// <summary>Redis (L2) failures by kind: error, timeout, invalid value, skipped while the circuit is open.</summary>
    public static readonly Counter<long> CacheL2Problems = Meter.CreateCounter<long>("gatekeeper.cache.l2.problems", "{problem}", "Redis lookups or writes that did not work, by kind.");

    /// <summary>State changes of the Redis circuit breaker.</summary>
    public static readonly Counter<long> CacheBreakerTransitions = Meter.CreateCounter<long>("gatekeeper.cache.breaker.transitions", "{transition}", "Redis circuit breaker state changes, by new state.");

    internal static readonly KeyValuePair<string, object?> TierL1 = new("gatekeeper.cache", "l1");
    internal static readonly KeyValuePair<string, object?> TierL2 = new("gatekeeper.cache", "l2");
    internal static readonly KeyValuePair<string, object?> TierMiss = new("gatekeeper.cache", "miss");
    internal static readonly KeyValuePair<string, object?> ProblemError = new("gatekeeper.problem", "error");
    internal static readonly KeyValuePair<string, object?> ProblemTimeout = new("gatekeeper.problem", "timeout");
    internal static readonly KeyValuePair<string, object?> ProblemInvalid = new("gatekeeper.problem", "invalid_value");
    internal static readonly KeyValuePair<string, object?> ProblemSkipped = new("gatekeeper.problem", "circuit_open");
    internal static readonly KeyValuePair<string, object?> ProblemWriteFailed = new("gatekeeper.problem", "write_failed");

    /// <summary>The ActivitySource for the service's spans.</summary>
    public static readonly ActivitySource ActivitySource = new(MeterName, "1.0");
}
