using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Gatekeeper.Telemetry;

/// <summary>
/// The service's instruments, on the <c>Gatekeeper</c> meter, and its <see cref="ActivitySource"/>: the one place
/// where telemetry names live. Nothing is recorded unless a listener (OpenTelemetry, dotnet-counters) is attached;
/// callers check <see cref="Instrument.Enabled"/> before they take a timestamp or build tags. Tag sets that repeat
/// are built once. No instrument carries personal data: attributes are vocabulary ids, rule ids, versions and
/// status codes, never a subject reference or the caller's request id.
/// </summary>
public static class GatekeeperMetrics
{
    /// <summary>Name of the meter and of the activity source.</summary>
    public const string MeterName = "Gatekeeper";

    /// <summary>Version reported with the meter and activity source (instrumentation scope).</summary>
    public const string ScopeVersion = "1.0";

    private static readonly Meter Meter = new(MeterName, ScopeVersion);

    // Sub-millisecond work (an L1 hit answers in a few microseconds) needs finer buckets than the SDK default,
    // which was designed for milliseconds; the top buckets still cover a slow fsync or a Redis timeout.
    private static readonly InstrumentAdvice<double> SecondsAdvice = new()
    {
        HistogramBucketBoundaries = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    };

    /// <summary>The ActivitySource for the service's spans.</summary>
    public static readonly ActivitySource ActivitySource = new(MeterName, ScopeVersion);

    /// <summary>
    /// Whole gRPC calls by method and status (OpenTelemetry RPC semantic conventions); its count is the number of
    /// calls by method and status, so there is no separate call counter.
    /// </summary>
    public static readonly Histogram<double> CallDuration = Meter.CreateHistogram("rpc.server.call.duration", "s", "Duration of gRPC calls handled by the server, by method and status code.", tags: null, SecondsAdvice);

    /// <summary>Answers given, by decision, deciding rule and policy version.</summary>
    public static readonly Counter<long> Decisions = Meter.CreateCounter<long>("gatekeeper.decisions", "{decision}", "Decisions answered, by decision, deciding rule and policy version.");

    /// <summary>Time to evaluate the compiled policy (cache misses only).</summary>
    public static readonly Histogram<double> EvaluationDuration = Meter.CreateHistogram("gatekeeper.policy.evaluation.duration", "s", "Time to evaluate the compiled policy for a decision not found in the cache.", tags: null, SecondsAdvice);

    /// <summary>Time an answer waited for its audit record to be durable (group commit included).</summary>
    public static readonly Histogram<double> AuditCommitDuration = Meter.CreateHistogram("gatekeeper.audit.commit.duration", "s", "Time an answer waited for its audit record(s) to be durable.", tags: null, SecondsAdvice);

    /// <summary>Redis commands of the decision cache (OpenTelemetry database semantic conventions).</summary>
    public static readonly Histogram<double> RedisDuration = Meter.CreateHistogram("db.client.operation.duration", "s", "Duration of Redis commands of the shared decision cache.", tags: null, SecondsAdvice);

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

    static GatekeeperMetrics()
    {
        // Observed at collection time only, from whatever servers are running in this process (one in production).
        Meter.CreateObservableGauge("gatekeeper.audit.queue.depth", ObservedServers.AuditQueueDepth, "{record}", "Audit records waiting to be committed.");
        Meter.CreateObservableGauge("gatekeeper.audit.health", ObservedServers.AuditHealth, "1", "Audit store state: 0 healthy, 1 failing (answers are refused with UNAVAILABLE).");
        Meter.CreateObservableGauge("gatekeeper.policy.version", ObservedServers.PolicyVersion, "1", "Always 1; the gatekeeper.policy_version attribute names the policy version in force.");
        Meter.CreateObservableGauge("gatekeeper.cache.l2.circuit.state", ObservedServers.CircuitState, "1", "Redis circuit breaker: 0 closed, 1 half-open (probing), 2 open (Redis skipped).");
    }

    /// <summary>True when anything listens to spans or to the call histogram: only then is a call timed or traced.</summary>
    internal static bool CallTelemetryActive => ActivitySource.HasListeners() || CallDuration.Enabled;
}
