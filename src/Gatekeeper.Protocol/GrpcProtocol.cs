namespace Gatekeeper.Protocol;

/// <summary>Names and constants of the gRPC over HTTP/2 protocol (grpc/grpc doc/PROTOCOL-HTTP2.md).</summary>
public static class GrpcProtocol
{
    /// <summary>The content type of gRPC requests and responses.</summary>
    public const string ContentType = "application/grpc";
    /// <summary>The content type with the explicit protobuf subtype, also accepted.</summary>
    public const string ContentTypeProto = "application/grpc+proto";

    /// <summary>Header carrying the call's deadline as a relative timeout.</summary>
    public const string TimeoutHeader = "grpc-timeout";
    /// <summary>Header naming the compression of messages sent with the compressed flag.</summary>
    public const string EncodingHeader = "grpc-encoding";
    /// <summary>Header listing the encodings the sender accepts.</summary>
    public const string AcceptEncodingHeader = "grpc-accept-encoding";
    /// <summary>Trailer with the numeric status code.</summary>
    public const string StatusTrailer = "grpc-status";
    /// <summary>Trailer with the percent-encoded status message.</summary>
    public const string MessageTrailer = "grpc-message";
    /// <summary>Suffix of metadata keys whose values are base64-encoded bytes.</summary>
    public const string BinaryHeaderSuffix = "-bin";

    /// <summary>The identity (no) compression.</summary>
    public const string IdentityEncoding = "identity";
    /// <summary>gzip compression.</summary>
    public const string GzipEncoding = "gzip";
    /// <summary>The encodings this implementation accepts, as sent in grpc-accept-encoding.</summary>
    public const string SupportedEncodings = "identity,gzip";

    /// <summary>Length of the message prefix: 1-byte compressed flag and 4-byte big-endian length.</summary>
    public const int MessagePrefixLength = 5;

    /// <summary>Default largest message accepted, as in grpc-dotnet and C-core: 4 MiB.</summary>
    public const int DefaultMaxReceiveMessageSize = 4 * 1024 * 1024;

    /// <summary>True for application/grpc, application/grpc+proto and application/grpc;params.</summary>
    public static bool IsGrpcContentType(string? contentType)
    {
        if (contentType is null || !contentType.StartsWith(ContentType, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        if (contentType.Length == ContentType.Length)
        {
            return true;
        }

        var rest = contentType.AsSpan(ContentType.Length);
        if (rest[0] == ';')
        {
            return true;
        }

        // application/grpc+proto[;params]; other subtypes (json, ...) are not spoken here.
        if (rest.StartsWith("+proto", StringComparison.OrdinalIgnoreCase))
        {
            return rest.Length == 6 || rest[6] == ';';
        }

        return false;
    }
}
