using System.Diagnostics.Metrics;
using Gatekeeper.Audit;
using Gatekeeper.Caching;
using Gatekeeper.Policy;

namespace Gatekeeper.Telemetry;

/// <summary>
/// The state behind the observable gauges of <see cref="GatekeeperMetrics"/>: the meter is static (one place for
/// instruments) while the audit log, policy and breaker belong to a host, so each host registers here for its
/// lifetime. Production runs one host per process; tests run several, each reporting its own value.
/// </summary>
internal static class ObservedServers
{
    private static readonly Lock Gate = new();
    private static Registration[] _servers = [];

    /// <summary>Reports the given parts of a server until the returned handle is disposed.</summary>
    public static IDisposable Register(AuditLog? audit, PolicyProvider policies, CircuitBreaker? breaker)
    {
        var registration = new Registration(audit, policies, breaker);
        lock (Gate)
        {
            _servers = [.. _servers, registration];
        }

        return registration;
    }

    public static IEnumerable<Measurement<int>> AuditQueueDepth()
    {
        foreach (var server in Volatile.Read(ref _servers))
        {
            if (server.Audit is { } audit)
            {
                yield return new Measurement<int>(audit.QueueDepth);
            }
        }
    }

    public static IEnumerable<Measurement<int>> AuditHealth()
    {
        foreach (var server in Volatile.Read(ref _servers))
        {
            if (server.Audit is { } audit)
            {
                yield return new Measurement<int>(audit.Health == Audit.AuditHealth.Healthy ? 0 : 1);
            }
        }
    }

    public static IEnumerable<Measurement<int>> PolicyVersion()
    {
        foreach (var server in Volatile.Read(ref _servers))
        {
            yield return new Measurement<int>(1, new KeyValuePair<string, object?>(TelemetryTags.PolicyVersion, server.Policies.Current.Version));
        }
    }

    public static IEnumerable<Measurement<int>> CircuitState()
    {
        foreach (var server in Volatile.Read(ref _servers))
        {
            if (server.Breaker is { } breaker)
            {
                yield return new Measurement<int>(breaker.State switch
                {
                    Caching.CircuitState.Closed => 0,
                    Caching.CircuitState.HalfOpen => 1,
                    _ => 2,
                });
            }
        }
    }

    private static void Remove(Registration registration)
    {
        lock (Gate)
        {
            _servers = Array.FindAll(_servers, r => !ReferenceEquals(r, registration));
        }
    }

    private sealed class Registration(AuditLog? audit, PolicyProvider policies, CircuitBreaker? breaker) : IDisposable
    {
        public AuditLog? Audit { get; } = audit;

        public PolicyProvider Policies { get; } = policies;

        public CircuitBreaker? Breaker { get; } = breaker;

        public void Dispose() => Remove(this);
    }
}
