using System.Globalization;
using Gatekeeper.Policy;
using Gatekeeper.Protocol;
using Gatekeeper.Transport.Internal;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.Security;

/// <summary>
/// Runs before the gRPC endpoint on every request: names the caller, refuses plain text from other hosts
/// (defence in depth: start-up already refuses plain-text bindings off loopback) and applies the caller's rate
/// limit. A refused call never reaches a handler, so it is not a decision and has no audit record.
/// </summary>
internal sealed class SecurityMiddleware
{
    /// <summary>The metadata key gRPC clients read to delay their retry (gRPC A6 retry design).</summary>
    public const string RetryPushbackHeader = "grpc-retry-pushback-ms";

    private readonly RequestDelegate _next;
    private readonly PolicyProvider _policies;
    private readonly CallerRateLimiter _limiter;
    private readonly bool _allowInsecure;
    private readonly ILogger _logger;

    public SecurityMiddleware(RequestDelegate next, PolicyProvider policies, CallerRateLimiter limiter, bool allowInsecure, ILogger logger)
    {
        _next = next;
        _policies = policies;
        _limiter = limiter;
        _allowInsecure = allowInsecure;
        _logger = logger;
    }

    public Task InvokeAsync(HttpContext http)
    {
        var caller = CallerIdentity.Of(http);
        if (!_allowInsecure && !http.Request.IsHttps && !ReferenceEquals(caller, CallerPolicy.AnonymousLoopback))
        {
            SecurityLog.InsecureConnectionRefused(_logger, http.Connection.RemoteIpAddress?.ToString() ?? "unknown");
            ResponseWriter.WriteError(http.Response, StatusCode.PermissionDenied, "Plain-text calls are served to loopback only; connect with TLS.", null);
            // Ask the caller to go away once this stream is answered, rather than serving it plain text again.
            http.Features.Get<IConnectionLifetimeNotificationFeature>()?.RequestClose();
            return Task.CompletedTask;
        }

        _policies.Current.Callers.TryGet(caller, out var entitlement);
        if (!_limiter.TryAcquire(caller, entitlement, out var retryAfter))
        {
            var milliseconds = (long)retryAfter.TotalMilliseconds;
            SecurityLog.RateLimited(_logger, caller, milliseconds);
            ResponseWriter.WriteError(
                http.Response,
                StatusCode.ResourceExhausted,
                $"caller '{caller}' is over its rate limit; retry after {milliseconds} ms",
                null,
                [new(RetryPushbackHeader, milliseconds.ToString(CultureInfo.InvariantCulture))]);
            return Task.CompletedTask;
        }

        return _next(http);
    }
}
