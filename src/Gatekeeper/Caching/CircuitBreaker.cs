namespace Gatekeeper.Caching;

/// <summary>The states of a <see cref="CircuitBreaker"/>.</summary>
public enum CircuitState
{
    /// <summary>Calls go through.</summary>
    Closed,
    /// <summary>Calls are skipped until the open period ends.</summary>
    Open,
    /// <summary>One probe call is in flight; its result closes or re-opens the circuit.</summary>
    HalfOpen,
}

/// <summary>
/// Stops calling a dependency that keeps failing: after <c>threshold</c> consecutive failures the circuit
/// opens for <c>openFor</c>; then a single probe is let through, and its outcome closes or re-opens it.
/// </summary>
public sealed class CircuitBreaker(int threshold, TimeSpan openFor, TimeProvider time)
{
    private readonly Lock _gate = new();
    private int _failures;
    private long _openUntil;
    private volatile CircuitState _state;

    /// <summary>Raised (outside the lock) when the state changes.</summary>
    public event Action<CircuitState>? StateChanged;

    /// <summary>The state now.</summary>
    public CircuitState State => _state;

    /// <summary>Whether a call may go to the dependency now.</summary>
    public bool AllowRequest()
    {
        if (_state == CircuitState.Closed)
        {
            return true;
        }

        bool probe;
        lock (_gate)
        {
            probe = _state == CircuitState.Open && time.GetTimestamp() >= _openUntil;
            if (probe)
            {
                _state = CircuitState.HalfOpen;
            }
        }

        if (probe)
        {
            StateChanged?.Invoke(CircuitState.HalfOpen);
        }

        return probe;
    }

    /// <summary>Records a call that worked.</summary>
    public void RecordSuccess()
    {
        if (_state == CircuitState.Closed && Volatile.Read(ref _failures) == 0)
        {
            return;
        }

        bool changed;
        lock (_gate)
        {
            _failures = 0;
            changed = _state != CircuitState.Closed;
            _state = CircuitState.Closed;
        }

        if (changed)
        {
            StateChanged?.Invoke(CircuitState.Closed);
        }
    }

    /// <summary>Records a call that failed.</summary>
    public void RecordFailure()
    {
        bool opened;
        lock (_gate)
        {
            _failures++;
            opened = _state == CircuitState.HalfOpen || (_state == CircuitState.Closed && _failures >= threshold);
            if (opened)
            {
                _state = CircuitState.Open;
                _openUntil = time.GetTimestamp() + (long)(openFor.TotalSeconds * time.TimestampFrequency);
            }
        }

        if (opened)
        {
            StateChanged?.Invoke(CircuitState.Open);
        }
    }
}
