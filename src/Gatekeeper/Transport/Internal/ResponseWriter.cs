using Gatekeeper.Protocol;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gatekeeper.Transport.Internal;

/// <summary>Writes response headers, length-prefixed messages and trailers straight into Kestrel's PipeWriter.</summary>
internal static class ResponseWriter
{
    private static readonly StringValues GrpcContentType = new(GrpcProtocol.ContentType);
    private static readonly StringValues AcceptEncodings = new(GrpcProtocol.SupportedEncodings);
    private static readonly StringValues Gzip = new(GrpcProtocol.GzipEncoding);
    private static readonly StringValues StatusOk = new("0");
    private static readonly string[] StatusStrings = CreateStatusStrings();

    /// <summary>Sets the headers every gRPC response starts with. Call once, before the first message.</summary>
    public static void WriteHeaders(HttpResponse response, bool compress)
    {
        var headers = response.Headers;
        headers.ContentType = GrpcContentType;
        headers[GrpcProtocol.AcceptEncodingHeader] = AcceptEncodings;
        if (compress)
        {
            headers[GrpcProtocol.EncodingHeader] = Gzip;
        }
    }

    /// <summary>Serialises one message into the body; small messages go into Kestrel's buffer without a copy.</summary>
    public static void WriteMessage(HttpResponse response, IMessage message, bool compress)
    {
        var writer = response.BodyWriter;
        if (compress)
        {
            var compressed = MessageCompression.Compress(message.ToByteArray());
            var span = writer.GetSpan(GrpcProtocol.MessagePrefixLength + compressed.Length);
            MessageFraming.WritePrefix(span, compressed: true, compressed.Length);
            compressed.CopyTo(span[GrpcProtocol.MessagePrefixLength..]);
            writer.Advance(GrpcProtocol.MessagePrefixLength + compressed.Length);
            return;
        }

        var size = message.CalculateSize();
        var destination = writer.GetSpan(GrpcProtocol.MessagePrefixLength + size);
        MessageFraming.WritePrefix(destination, compressed: false, size);
        message.WriteTo(destination.Slice(GrpcProtocol.MessagePrefixLength, size));
        writer.Advance(GrpcProtocol.MessagePrefixLength + size);
    }

    /// <summary>Ends a call that wrote its headers: grpc-status OK plus any trailers the handler added.</summary>
    public static void WriteOkTrailers(HttpResponse response, ServerCallContext? call)
    {
        response.AppendTrailer(GrpcProtocol.StatusTrailer, StatusOk);
        AppendHandlerTrailers(response, call);
    }

    /// <summary>
    /// Ends a call with an error status. Before the response has started this is a Trailers-Only response
    /// (status in the one HEADERS frame); afterwards the status goes in the trailers.
    /// </summary>
    public static void WriteError(HttpResponse response, StatusCode status, string detail, ServerCallContext? call, IReadOnlyList<KeyValuePair<string, string>>? extraHeaders = null, int httpStatus = StatusCodes.Status200OK)
    {
        var message = PercentEncoding.Encode(detail);
        if (!response.HasStarted)
        {
            response.StatusCode = httpStatus;
            var headers = response.Headers;
            headers.ContentType = GrpcContentType;
            headers[GrpcProtocol.StatusTrailer] = StatusStrings[(int)status];
            if (message.Length > 0)
            {
                headers[GrpcProtocol.MessageTrailer] = message;
            }

            if (extraHeaders is not null)
            {
                foreach (var (key, value) in extraHeaders)
                {
                    headers.Append(key, value);
                }
            }

            if (call?.ResponseTrailers is { } trailers)
            {
                foreach (var (key, value) in trailers)
                {
                    headers.Append(key, value);
                }
            }

            return;
        }

        response.AppendTrailer(GrpcProtocol.StatusTrailer, StatusStrings[(int)status]);
        if (message.Length > 0)
        {
            response.AppendTrailer(GrpcProtocol.MessageTrailer, message);
        }

        AppendHandlerTrailers(response, call);
    }

    private static void AppendHandlerTrailers(HttpResponse response, ServerCallContext? call)
    {
        if (call?.ResponseTrailers is { } trailers)
        {
            foreach (var (key, value) in trailers)
            {
                response.AppendTrailer(key, value);
            }
        }
    }

    private static string[] CreateStatusStrings()
    {
        var strings = new string[17];
        for (var i = 0; i < strings.Length; i++)
        {
            strings[i] = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return strings;
    }
}
