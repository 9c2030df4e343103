using Gatekeeper.Protocol;

namespace Gatekeeper.Transport;

/// <summary>Settings of the gRPC layer, bound from <c>Gatekeeper:Grpc</c>.</summary>
public sealed class GrpcServerOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Gatekeeper:Grpc";

    /// <summary>
    /// Largest request message accepted, in bytes, checked on the length prefix before anything is buffered
    /// (compressed messages are also limited after decompression). Defaults to 4 MiB, as in other gRPC servers.
    /// </summary>
    public int MaxReceiveMessageSize { get; set; } = GrpcProtocol.DefaultMaxReceiveMessageSize;

    /// <summary>
    /// Include exception messages in the status of failed calls. Defaults to false: callers get UNKNOWN with
    /// a generic message and the details go to the log only.
    /// </summary>
    public bool EnableDetailedErrors { get; set; }

    internal IEnumerable<string> Validate()
    {
        if (MaxReceiveMessageSize is < 1)
        {
            yield return $"{Section}:MaxReceiveMessageSize must be at least 1 byte (was {MaxReceiveMessageSize}).";
        }
    }
}
