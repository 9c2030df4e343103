using Gatekeeper.Protocol;

namespace Gatekeeper.Client;

/// <summary>
/// A call that ended with a gRPC status other than OK: sent by the server, mapped from an HTTP or transport
/// failure, or decided locally (deadline, cancellation, malformed response).
/// </summary>
public sealed class RpcException : Exception
{
    /// <summary>Creates an exception for a status that is not OK.</summary>
    /// <param name="statusCode">The gRPC status code.</param>
    /// <param name="detail">The status message (already percent-decoded).</param>
    /// <param name="trailers">The trailers the server sent, if any.</param>
    /// <param name="innerException">The transport exception that caused the status, if any.</param>
    public RpcException(StatusCode statusCode, string detail, Metadata? trailers = null, Exception? innerException = null)
        : base(FormatMessage(statusCode, detail, innerException), innerException)
    {
        ArgumentNullException.ThrowIfNull(detail);
        StatusCode = statusCode;
        Detail = detail;
        Trailers = trailers ?? new Metadata();
    }

    /// <summary>Creates an exception with status <see cref="StatusCode.Unknown"/>.</summary>
    public RpcException()
        : this(StatusCode.Unknown, string.Empty)
    {
    }

    /// <summary>Creates an exception with status <see cref="StatusCode.Unknown"/> and the given detail.</summary>
    public RpcException(string message)
        : this(StatusCode.Unknown, message ?? string.Empty)
    {
    }

    /// <summary>Creates an exception with status <see cref="StatusCode.Unknown"/>, the given detail and cause.</summary>
    public RpcException(string message, Exception? innerException)
        : this(StatusCode.Unknown, message ?? string.Empty, null, innerException)
    {
    }

    /// <summary>The gRPC status code.</summary>
    public StatusCode StatusCode { get; }

    /// <summary>The status message: the decoded grpc-message, or a description of the local failure.</summary>
    public string Detail { get; }

    /// <summary>The trailers of the call (for a Trailers-Only response, its headers); empty when none arrived.</summary>
    public Metadata Trailers { get; }

    private static string FormatMessage(StatusCode statusCode, string? detail, Exception? innerException)
    {
        var message = $"Status(StatusCode=\"{statusCode}\", Detail=\"{detail}\")";
        return innerException is null ? message : $"{message} {innerException.GetType().Name}: {innerException.Message}";
    }
}
