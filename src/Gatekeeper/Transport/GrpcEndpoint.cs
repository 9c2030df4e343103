using System.Collections.Frozen;
using System.Diagnostics;
using Gatekeeper.Protocol;
using Gatekeeper.Telemetry;
using Gatekeeper.Transport.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gatekeeper.Transport;

/// <summary>
/// The gRPC server on Kestrel: one request delegate that checks the call, routes it by path, starts the
/// deadline and turns every failure into a gRPC status. No endpoint routing: a frozen path lookup is all
/// the routing a gRPC server needs. Being the single entry of every call, it also owns the server span and the
/// call metric (both skipped, without a timestamp, while nothing listens).
/// </summary>
public sealed class GrpcEndpoint
{
    private readonly FrozenDictionary<string, ServerMethod> _methods;
    private readonly FrozenDictionary<string, Route> _routes;
    private readonly FrozenSet<string> _services;
    private readonly GrpcServerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<GrpcEndpoint> _logger;

    /// <summary>Creates the endpoint for the given methods.</summary>
    public GrpcEndpoint(IEnumerable<ServerMethod> methods, IOptions<GrpcServerOptions> options, TimeProvider time, ILogger<GrpcEndpoint> logger)
    {
        ArgumentNullException.ThrowIfNull(methods);
        ArgumentNullException.ThrowIfNull(options);
        var byPath = new Dictionary<string, ServerMethod>(StringComparer.Ordinal);
        var services = new HashSet<string>(StringComparer.Ordinal);
        foreach (var method in methods)
        {
            if (!byPath.TryAdd(method.Path, method))
            {
                throw new InvalidOperationException($"Two handlers for gRPC method {method.Path}.");
            }

            services.Add(method.Service);
        }

        _methods = byPath.ToFrozenDictionary(StringComparer.Ordinal);
        _routes = byPath.ToFrozenDictionary(e => e.Key, e => new Route(e.Value, new RpcServerTelemetry(e.Value.Service, e.Value.Name)), StringComparer.Ordinal);
        _services = services.ToFrozenSet(StringComparer.Ordinal);
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    /// <summary>The methods served, by path.</summary>
    public IReadOnlyDictionary<string, ServerMethod> Methods => _methods;

    /// <summary>Handles one HTTP/2 request as a gRPC call.</summary>
    public Task HandleAsync(HttpContext http)
    {
        var request = http.Request;
        var response = http.Response;
        if (!GrpcProtocol.IsGrpcContentType(request.ContentType))
        {
            GrpcServerLog.UnsupportedContentType(_logger, request.ContentType);
            ResponseWriter.WriteError(response, StatusCode.Internal, $"Content-Type '{request.ContentType}' is not supported: gRPC needs application/grpc.", null, httpStatus: StatusCodes.Status415UnsupportedMediaType);
            return Task.CompletedTask;
        }

        if (!HttpMethods.IsPost(request.Method))
        {
            ResponseWriter.WriteError(response, StatusCode.Internal, $"Method {request.Method} is not supported: gRPC calls are POST.", null, httpStatus: StatusCodes.Status405MethodNotAllowed);
            return Task.CompletedTask;
        }

        var path = request.Path.Value ?? string.Empty;
        if (!_routes.TryGetValue(path, out var route))
        {
            var detail = UnimplementedDetail(path);
            GrpcServerLog.UnimplementedMethod(_logger, path);
            ResponseWriter.WriteError(response, StatusCode.Unimplemented, detail, null);
            return Task.CompletedTask;
        }

        return InvokeAsync(http, route);
    }

    private async Task InvokeAsync(HttpContext http, Route route)
    {
        var method = route.Method;
        var headers = http.Request.Headers;
        long started = 0;
        Activity? activity = null;
        if (GatekeeperMetrics.CallTelemetryActive)
        {
            started = Stopwatch.GetTimestamp();
            activity = route.Telemetry.StartServerSpan(headers);
        }

        var status = StatusCode.OK;
        CancellationTokenSource? deadlineSource = null;
        CancellationTokenRegistration abortRegistration = default;
        DateTimeOffset? deadline = null;
        var token = http.RequestAborted;
        var timeoutHeader = headers[GrpcProtocol.TimeoutHeader];
        if (timeoutHeader.Count > 0)
        {
            // A legal timeout beyond what a timer holds (about 49.7 days; 99999999H also overflows the clock) means no deadline.
            if (GrpcTimeout.TryParse(timeoutHeader[0], out var timeout) && timeout.TotalMilliseconds < uint.MaxValue - 1)
            {
                deadline = _time.GetUtcNow() + timeout;
                deadlineSource = new CancellationTokenSource(timeout, _time);
                abortRegistration = http.RequestAborted.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), deadlineSource);
                token = deadlineSource.Token;
            }
            else
            {
                // Other servers ignore a malformed timeout too; the call runs without a deadline.
                GrpcServerLog.InvalidTimeout(_logger, timeoutHeader[0]);
            }
        }

        var encodingHeader = headers[GrpcProtocol.EncodingHeader];
        var encoding = encodingHeader.Count > 0 ? encodingHeader[0] : null;
        var call = new ServerCallContext(http, method.Path, deadline, token);
        try
        {
            await method.InvokeAsync(http, call, encoding, _options.MaxReceiveMessageSize);
        }
        catch (RpcException ex)
        {
            status = ex.StatusCode;
            GrpcServerLog.CallFailedWithStatus(_logger, method.Path, ex.StatusCode, ex.Detail);
            ResponseWriter.WriteError(http.Response, ex.StatusCode, ex.Detail, call, ex.Headers);
        }
        catch (OperationCanceledException) when (deadlineSource is not null && deadlineSource.IsCancellationRequested && !http.RequestAborted.IsCancellationRequested)
        {
            status = StatusCode.DeadlineExceeded;
            GrpcServerLog.DeadlineExceeded(_logger, method.Path);
            ResponseWriter.WriteError(http.Response, StatusCode.DeadlineExceeded, "Deadline Exceeded", call);
        }
        catch (Exception ex) when (http.RequestAborted.IsCancellationRequested || ex is IOException { InnerException: Microsoft.AspNetCore.Connections.ConnectionAbortedException })
        {
            // The caller cancelled or went away: there is nobody to answer; Kestrel resets the stream. A connection
            // that faulted (e.g. an over-size frame) while the body was read can surface before RequestAborted is
            // signalled (found by the randomised input test): the same case, not a handler failure.
            status = StatusCode.Cancelled;
            GrpcServerLog.CallCancelled(_logger, method.Path);
        }
        catch (Exception ex)
        {
            status = StatusCode.Unknown;
            GrpcServerLog.HandlerFailed(_logger, method.Path, ex);
            var detail = _options.EnableDetailedErrors ? $"Exception was thrown by handler. {ex.GetType().Name}: {ex.Message}" : "Exception was thrown by handler.";
            ResponseWriter.WriteError(http.Response, StatusCode.Unknown, detail, call);
        }
        finally
        {
            abortRegistration.Dispose();
            deadlineSource?.Dispose();
            if (started != 0)
            {
                route.Telemetry.Complete(activity, status, started);
            }
        }
    }

    private string UnimplementedDetail(string path)
    {
        // "/service/method": name the part that is unknown, as grpc-dotnet does.
        var slash = path.IndexOf('/', 1);
        if (path.Length > 1 && path[0] == '/' && slash > 0)
        {
            var service = path[1..slash];
            return _services.Contains(service)
                ? $"Method is unimplemented: {path[(slash + 1)..]} on {service}."
                : $"Service is unimplemented: {service}.";
        }

        return $"Unknown path '{path}': gRPC paths are /service/method.";
    }

    /// <summary>A served method and its precomputed telemetry, found with one lookup per call.</summary>
    private sealed record Route(ServerMethod Method, RpcServerTelemetry Telemetry);
}
