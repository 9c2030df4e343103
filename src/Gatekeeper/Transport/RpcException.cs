using Gatekeeper.Protocol;

namespace Gatekeeper.Transport;

/// <summary>Thrown by a handler (or the transport) to end a call with a specific gRPC status.</summary>
public sealed class RpcException : Exception
{
    /// <summary>Creates an exception that ends the call with <paramref name="statusCode"/> and <paramref name="detail"/>.</summary>
    public RpcException(StatusCode statusCode, string detail)
        : base(detail)
    {
        StatusCode = statusCode;
        Detail = detail;
    }

    /// <summary>The status the caller receives.</summary>
    public StatusCode StatusCode { get; }

    /// <summary>The status message the caller receives (sent percent-encoded in grpc-message).</summary>
    public string Detail { get; }

    /// <summary>Extra response headers to send with an early (Trailers-Only) error, e.g. grpc-accept-encoding.</summary>
    public IReadOnlyList<KeyValuePair<string, string>>? Headers { get; init; }
}
