namespace Gatekeeper.Client;

/// <summary>The response of a successful unary call, with the metadata the server sent around it.</summary>
/// <typeparam name="TResponse">The response message type.</typeparam>
public sealed class CallResult<TResponse>
{
    internal CallResult(TResponse response, Metadata responseHeaders, Metadata trailers)
    {
        Response = response;
        ResponseHeaders = responseHeaders;
        Trailers = trailers;
    }

    /// <summary>The response message.</summary>
    public TResponse Response { get; }

    /// <summary>The response headers (HTTP and custom metadata).</summary>
    public Metadata ResponseHeaders { get; }

    /// <summary>The trailers, including grpc-status.</summary>
    public Metadata Trailers { get; }
}
