using Gatekeeper.Protocol;
using Gatekeeper.Transport;
using Grpc.Health.V1;

namespace Gatekeeper.Health;

/// <summary>The standard gRPC health service, grpc.health.v1.Health (grpc/grpc doc/health-checking.md).</summary>
public sealed class HealthService(HealthStatusStore store)
{
    /// <summary>The service name on the wire.</summary>
    public const string ServiceName = "grpc.health.v1.Health";

    /// <summary>The methods to register with the gRPC endpoint.</summary>
    public IEnumerable<ServerMethod> Methods()
    {
        yield return ServerMethod.Unary<HealthCheckRequest, HealthCheckResponse>(ServiceName, "Check", HealthCheckRequest.Parser, Check);
        yield return ServerMethod.ServerStreaming<HealthCheckRequest, HealthCheckResponse>(ServiceName, "Watch", HealthCheckRequest.Parser, WatchAsync);
    }

    /// <summary>The status now; NOT_FOUND for a service the server does not know.</summary>
    public ValueTask<HealthCheckResponse> Check(HealthCheckRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        return store.TryGet(request.Service, out var status)
            ? ValueTask.FromResult(new HealthCheckResponse { Status = status })
            : throw new RpcException(StatusCode.NotFound, $"Unknown service '{request.Service}'.");
    }

    /// <summary>
    /// Sends the status now (SERVICE_UNKNOWN for an unknown service) and again at every change, until the
    /// caller cancels or the server drains; then the call ends with UNAVAILABLE so the caller reconnects
    /// elsewhere instead of holding shutdown open.
    /// </summary>
    public async Task WatchAsync(HealthCheckRequest request, IServerStreamWriter<HealthCheckResponse> writer, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(context);
        var cancelled = Task.Delay(Timeout.Infinite, context.CancellationToken);
        HealthCheckResponse.Types.ServingStatus? last = null;
        while (true)
        {
            var changed = store.WaitForChangeAsync();
            var status = store.TryGet(request.Service, out var s) ? s : HealthCheckResponse.Types.ServingStatus.ServiceUnknown;
            if (status != last)
            {
                await writer.WriteAsync(new HealthCheckResponse { Status = status }, context.CancellationToken);
                last = status;
            }

            if (store.IsDraining)
            {
                throw new RpcException(StatusCode.Unavailable, "Server is shutting down.");
            }

            if (await Task.WhenAny(changed, cancelled) == cancelled)
            {
                context.CancellationToken.ThrowIfCancellationRequested();
            }
        }
    }
}
