using Gatekeeper.Caching;

namespace Gatekeeper.Tests.Caching;

public sealed class CircuitBreakerTests
{
    private readonly ManualTimeProvider _time = new();

    [Fact]
    public void RecordFailure_BelowThreshold_StaysClosed()
    {
        var breaker = new CircuitBreaker(3, TimeSpan.FromSeconds(5), _time);
        breaker.RecordFailure();
        breaker.RecordFailure();
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.True(breaker.AllowRequest());
    }

    [Fact]
    public void RecordSuccess_ResetsTheCount()
    {
        var breaker = new CircuitBreaker(3, TimeSpan.FromSeconds(5), _time);
        breaker.RecordFailure();
        breaker.RecordFailure();
        breaker.RecordSuccess();
        breaker.RecordFailure();
        breaker.RecordFailure();
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void RecordFailure_AtThreshold_OpensAndSkipsCallsUntilTheOpenPeriodEnds()
    {
        var changes = new List<CircuitState>();
        var breaker = new CircuitBreaker(3, TimeSpan.FromSeconds(5), _time);
        breaker.StateChanged += changes.Add;
        for (var i = 0; i < 3; i++)
        {
            breaker.RecordFailure();
        }

        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.False(breaker.AllowRequest());
        _time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.False(breaker.AllowRequest());
        _time.Advance(TimeSpan.FromSeconds(0.2));
        Assert.True(breaker.AllowRequest()); // the one probe
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        Assert.False(breaker.AllowRequest()); // no second probe while the first is out
        Assert.Equal([CircuitState.Open, CircuitState.HalfOpen], changes);
    }

    [Fact]
    public void Probe_Succeeds_ClosesTheCircuit()
    {
        var breaker = new CircuitBreaker(1, TimeSpan.FromSeconds(1), _time);
        breaker.RecordFailure();
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.True(breaker.AllowRequest());
        breaker.RecordSuccess();
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.True(breaker.AllowRequest());
    }

    [Fact]
    public void Probe_Fails_ReopensForAnotherPeriod()
    {
        var breaker = new CircuitBreaker(1, TimeSpan.FromSeconds(1), _time);
        breaker.RecordFailure();
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.True(breaker.AllowRequest());
        breaker.RecordFailure();
        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.False(breaker.AllowRequest());
    }
}
