using System.Diagnostics;
using System.Net.Http.Headers;

namespace Gatekeeper.Client.Internal;

/// <summary>
/// W3C trace context propagation. The hook for the telemetry work: a client span will be started around the
/// call and become the parent sent here.
/// </summary>
internal static class TraceContext
{
    public const string TraceParentHeader = "traceparent";
    public const string TraceStateHeader = "tracestate";

    public static void Inject(HttpRequestHeaders headers)
    {
        var activity = Activity.Current;
        if (activity is null || activity.IdFormat != ActivityIdFormat.W3C || activity.Id is null)
        {
            return;
        }

        // SocketsHttpHandler's own propagation leaves headers that are already present alone, so nothing is sent twice.
        headers.TryAddWithoutValidation(TraceParentHeader, activity.Id);
        if (activity.TraceStateString is { Length: > 0 } state)
        {
            headers.TryAddWithoutValidation(TraceStateHeader, state);
        }
    }
}
