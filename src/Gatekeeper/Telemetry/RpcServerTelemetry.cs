using System.Diagnostics;
using Gatekeeper.Protocol;
using Microsoft.AspNetCore.Http;

namespace Gatekeeper.Telemetry;

/// <summary>
/// The server span and call metric of one gRPC method, with everything that does not change per call (span name,
/// rpc.* attributes, one metric tag set per status code) built once when the endpoint is created.
/// </summary>
internal sealed class RpcServerTelemetry
{
    private const int StatusCount = (int)StatusCode.Unauthenticated + 1;
    private static readonly object[] BoxedStatus = CreateBoxedStatus();
    private readonly string _spanName;
    private readonly KeyValuePair<string, object?>[] _spanTags;
    private readonly KeyValuePair<string, object?>[][] _metricTags;

    public RpcServerTelemetry(string service, string method)
    {
        // Semantic conventions: the span is named {rpc.service}/{rpc.method}.
        _spanName = service + "/" + method;
        _spanTags =
        [
            new(TelemetryTags.RpcSystem, TelemetryTags.Grpc),
            new(TelemetryTags.RpcService, service),
            new(TelemetryTags.RpcMethod, method),
        ];
        _metricTags = new KeyValuePair<string, object?>[StatusCount][];
        for (var code = 0; code < StatusCount; code++)
        {
            _metricTags[code] = [.. _spanTags, new(TelemetryTags.RpcGrpcStatusCode, BoxedStatus[code])];
        }
    }

    /// <summary>The span name, <c>gatekeeper.v1.Gatekeeper/Decide</c>.</summary>
    public string SpanName => _spanName;

    /// <summary>
    /// Starts the server span, continuing the caller's W3C trace context when the request carries a valid one.
    /// Null when nobody listens or the sampler drops the call.
    /// </summary>
    public Activity? StartServerSpan(IHeaderDictionary headers)
    {
        if (!GatekeeperMetrics.ActivitySource.HasListeners())
        {
            return null;
        }

        ActivityContext parent = default;
        var traceParent = headers.TraceParent;
        if (traceParent.Count == 1)
        {
            var traceState = headers.TraceState;
            // An invalid traceparent starts a new trace, as the W3C recommendation says; the call itself is not affected.
            ActivityContext.TryParse(traceParent[0], traceState.Count == 1 ? traceState[0] : null, isRemote: true, out parent);
        }

        return GatekeeperMetrics.ActivitySource.StartActivity(_spanName, ActivityKind.Server, parent, _spanTags);
    }

    /// <summary>Records the call metric and ends the span with the call's gRPC status.</summary>
    public void Complete(Activity? activity, StatusCode status, long startTimestamp)
    {
        var code = (int)status;
        if (GatekeeperMetrics.CallDuration.Enabled && startTimestamp != 0)
        {
            var tags = (uint)code < StatusCount ? _metricTags[code] : [.. _spanTags, new(TelemetryTags.RpcGrpcStatusCode, code)];
            GatekeeperMetrics.CallDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, tags);
        }

        if (activity is null)
        {
            return;
        }

        if (activity.IsAllDataRequested)
        {
            activity.AddTag(TelemetryTags.RpcGrpcStatusCode, (uint)code < StatusCount ? BoxedStatus[code] : code);
            if (IsServerError(status))
            {
                activity.SetStatus(ActivityStatusCode.Error, status.ToString());
            }
        }

        activity.Dispose();
    }

    /// <summary>The codes the RPC semantic conventions count as a server-side error; the others are the caller's.</summary>
    private static bool IsServerError(StatusCode status) =>
        status is StatusCode.Unknown or StatusCode.DeadlineExceeded or StatusCode.Unimplemented or StatusCode.Internal or StatusCode.Unavailable or StatusCode.DataLoss;

    private static object[] CreateBoxedStatus()
    {
        var boxed = new object[StatusCount];
        for (var code = 0; code < StatusCount; code++)
        {
            boxed[code] = code;
        }

        return boxed;
    }
}
