using System.Collections.Concurrent;
using Grpc.Health.V1;

namespace Gatekeeper.Health;

/// <summary>
/// The serving status of each health-checked service ("" is the server as a whole). Watchers are told of
/// every change. Everything starts NOT_SERVING and becomes SERVING once the host has started.
/// </summary>
public sealed class HealthStatusStore
{
    /// <summary>The name of the gatekeeper's decision service for health checks.</summary>
    public const string DecisionService = "gatekeeper.v1.Gatekeeper";

    /// <summary>
    /// The shared decision cache (Redis). Known only when Redis is configured; NOT_SERVING while its circuit
    /// is open, which means degraded: decisions go on from the in-process cache and the policy.
    /// </summary>
    public const string CacheService = "gatekeeper.cache.l2";

    private readonly ConcurrentDictionary<string, HealthCheckResponse.Types.ServingStatus> _statuses = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private TaskCompletionSource _changed = NewSignal();

    /// <summary>Creates the store with the server and the decision service, both NOT_SERVING.</summary>
    public HealthStatusStore()
    {
        _statuses[string.Empty] = HealthCheckResponse.Types.ServingStatus.NotServing;
        _statuses[DecisionService] = HealthCheckResponse.Types.ServingStatus.NotServing;
    }

    /// <summary>True once the host is stopping: watchers should end.</summary>
    public bool IsDraining { get; private set; }

    /// <summary>The status of <paramref name="service"/>; false when it is not known.</summary>
    public bool TryGet(string service, out HealthCheckResponse.Types.ServingStatus status) => _statuses.TryGetValue(service, out status);

    /// <summary>Sets the status of one service and wakes the watchers.</summary>
    public void Set(string service, HealthCheckResponse.Types.ServingStatus status)
    {
        _statuses[service] = status;
        Signal();
    }

    /// <summary>Sets every known service to <paramref name="status"/>.</summary>
    public void SetAll(HealthCheckResponse.Types.ServingStatus status)
    {
        foreach (var key in _statuses.Keys)
        {
            _statuses[key] = status;
        }

        Signal();
    }

    /// <summary>Marks every service NOT_SERVING for good: the host is shutting down.</summary>
    public void Drain()
    {
        IsDraining = true;
        SetAll(HealthCheckResponse.Types.ServingStatus.NotServing);
    }

    /// <summary>A task that completes at the next change of any status.</summary>
    public Task WaitForChangeAsync()
    {
        lock (_gate)
        {
            return _changed.Task;
        }
    }

    private void Signal()
    {
        TaskCompletionSource previous;
        lock (_gate)
        {
            previous = _changed;
            _changed = NewSignal();
        }

        previous.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
