using System.Collections.Concurrent;
using System.Diagnostics;
using Gatekeeper.Client;

namespace Gatekeeper.FunctionalTests.Telemetry;

/// <summary>
/// Plays the calling service: a root span of its own (made current) and a listener that records the
/// Gatekeeper.Client spans of that trace only, so that clients of other tests running in parallel are not traced.
/// </summary>
public sealed class TracedCaller : IDisposable
{
    // One source per caller, created before the listener is added: a static one initialised lazily from inside
    // ShouldListenTo (while the listener is being registered) would never be listened to.
    private readonly ActivitySource _source = new("Gatekeeper.FunctionalTests.Caller");
    private readonly ActivityListener _listener;
    private readonly ConcurrentQueue<Activity> _clientSpans = new();
    private readonly Activity _root;

    public TracedCaller()
    {
        var traceId = default(ActivityTraceId);
        _listener = new ActivityListener
        {
            ShouldListenTo = source => ReferenceEquals(source, _source) || source.Name == GatekeeperClient.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> options) =>
                ReferenceEquals(options.Source, _source) || options.Parent.TraceId == traceId
                    ? ActivitySamplingResult.AllDataAndRecorded
                    : ActivitySamplingResult.None,
            ActivityStopped = activity =>
            {
                if (activity.Source.Name == GatekeeperClient.ActivitySourceName && activity.TraceId == traceId)
                {
                    _clientSpans.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
        _root = _source.StartActivity("calling service") ?? throw new InvalidOperationException("The caller's root span was not sampled.");
        traceId = _root.TraceId;
    }

    /// <summary>The trace id, as lower-case hex.</summary>
    public string TraceId => _root.TraceId.ToHexString();

    /// <summary>The client spans of this trace that have ended.</summary>
    public IReadOnlyList<Activity> ClientSpans => [.. _clientSpans];

    public void Dispose()
    {
        _root.Dispose();
        _listener.Dispose();
        _source.Dispose();
    }
}
