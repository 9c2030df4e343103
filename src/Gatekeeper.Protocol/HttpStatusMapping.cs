namespace Gatekeeper.Protocol;

/// <summary>
/// The gRPC status for an HTTP response that carries no grpc-status (grpc/grpc doc/http-grpc-status-mapping.md).
/// </summary>
public static class HttpStatusMapping
{
    /// <summary>Maps an HTTP status code to the gRPC status a client reports.</summary>
    public static StatusCode FromHttpStatus(int httpStatus) => httpStatus switch
    {
        400 => StatusCode.Internal,
        401 => StatusCode.Unauthenticated,
        403 => StatusCode.PermissionDenied,
        404 => StatusCode.Unimplemented,
        429 or 502 or 503 or 504 => StatusCode.Unavailable,
        _ => StatusCode.Unknown,
    };
}
