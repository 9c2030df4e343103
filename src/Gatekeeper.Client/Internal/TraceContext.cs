using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using Gatekeeper.Protocol;

namespace Gatekeeper.Client.Internal;

/// <summary>
/// Client-side tracing: a client span around each call (OpenTelemetry RPC semantic conventions) on the
/// <see cref="GatekeeperClient.ActivitySourceName"/> source, and W3C trace context propagation of the current
/// activity, which is that span when someone listens, or the caller's own activity otherwise.
/// </summary>
internal static class TraceContext
{
    public const string TraceParentHeader = "traceparent";
    public const string TraceStateHeader = "tracestate";

    // Callers of UnaryCallAsync choose their paths; cache a bounded number so that a path per call cannot grow memory.
    private const int MaxCachedMethods = 256;
    private static readonly ActivitySource Source = new(GatekeeperClient.ActivitySourceName, "1.0");
    private static readonly ConcurrentDictionary<string, ClientMethod> Methods = new(StringComparer.Ordinal);

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

    /// <summary>Starts the client span of a call to <paramref name="uri"/>; null (at the cost of one check) when nobody listens.</summary>
    public static Activity? StartClientSpan(Uri uri)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var path = uri.AbsolutePath;
        if (!Methods.TryGetValue(path, out var method))
        {
            method = new ClientMethod(path);
            if (Methods.Count < MaxCachedMethods)
            {
                Methods.TryAdd(path, method);
            }
        }

        var activity = Source.StartActivity(method.SpanName, ActivityKind.Client, parentContext: default, method.Tags);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("server.address", uri.Host);
            activity.SetTag("server.port", uri.Port);
        }

        return activity;
    }

    /// <summary>Ends a span from <see cref="StartClientSpan"/> with the call's status; every non-OK status is an error for the caller.</summary>
    public static void StopClientSpan(Activity? activity, StatusCode status)
    {
        if (activity is null)
        {
            return;
        }

        if (activity.IsAllDataRequested)
        {
            activity.SetTag("rpc.grpc.status_code", (int)status);
            if (status != StatusCode.OK)
            {
                activity.SetStatus(ActivityStatusCode.Error, status.ToString());
            }
        }

        activity.Dispose();
    }

    /// <summary>Span name and rpc.* attributes of one method path, <c>/package.Service/Method</c>.</summary>
    private sealed class ClientMethod
    {
        public ClientMethod(string path)
        {
            var trimmed = path.TrimStart('/');
            var slash = trimmed.IndexOf('/', StringComparison.Ordinal);
            var service = slash > 0 ? trimmed[..slash] : trimmed;
            var name = slash > 0 ? trimmed[(slash + 1)..] : string.Empty;
            SpanName = trimmed;
            Tags =
            [
                new("rpc.system", "grpc"),
                new("rpc.service", service),
                new("rpc.method", name),
            ];
        }

        public string SpanName { get; }

        public KeyValuePair<string, object?>[] Tags { get; }
    }
}
