using System.Globalization;
using System.Net.Http.Headers;
using Gatekeeper.Protocol;

namespace Gatekeeper.Client.Internal;

/// <summary>A status decided from response headers or trailers, before it becomes a result or an exception.</summary>
internal readonly record struct RpcStatus(StatusCode Code, string Detail)
{
    /// <summary>
    /// The status the response headers already decide (Trailers-Only, an HTTP error, not a gRPC response),
    /// or null when messages and trailers follow.
    /// </summary>
    public static RpcStatus? FromHeaders(HttpResponseMessage response)
    {
        if (HeaderValues.TryGetFirst(response.Headers, GrpcProtocol.StatusTrailer, out var statusText))
        {
            // Trailers-Only: the status wins over the HTTP status, as the spec asks.
            return Parse(statusText, response.Headers);
        }

        var httpStatus = (int)response.StatusCode;
        if (httpStatus != 200)
        {
            return new RpcStatus(
                HttpStatusMapping.FromHttpStatus(httpStatus),
                $"Bad gRPC response: HTTP {httpStatus} ({response.ReasonPhrase}) without a grpc-status. "
                + "The address may not be a gRPC endpoint, or a proxy in between refused the call.");
        }

        HeaderValues.TryGetFirst(response.Content.Headers, "Content-Type", out var contentType);
        if (!GrpcProtocol.IsGrpcContentType(contentType))
        {
            return new RpcStatus(
                StatusCode.Unknown,
                $"Bad gRPC response: content-type '{contentType ?? "(none)"}' is not application/grpc. "
                + "The address may not be a gRPC endpoint.");
        }

        return null;
    }

    /// <summary>The status in the trailers that follow the messages.</summary>
    public static RpcStatus FromTrailers(HttpHeaders trailers) =>
        HeaderValues.TryGetFirst(trailers, GrpcProtocol.StatusTrailer, out var statusText)
            ? Parse(statusText, trailers)
            : new RpcStatus(StatusCode.Unknown, "Bad gRPC response: the response ended without a grpc-status trailer.");

    private static RpcStatus Parse(string statusText, HttpHeaders headers)
    {
        var detail = HeaderValues.TryGetFirst(headers, GrpcProtocol.MessageTrailer, out var message)
            ? PercentEncoding.Decode(message)
            : string.Empty;
        if (int.TryParse(statusText, NumberStyles.None, CultureInfo.InvariantCulture, out var code)
            && code <= (int)StatusCode.Unauthenticated)
        {
            return new RpcStatus((StatusCode)code, detail);
        }

        return new RpcStatus(StatusCode.Unknown, $"Bad gRPC response: invalid grpc-status '{statusText}'. {detail}".TrimEnd());
    }
}
