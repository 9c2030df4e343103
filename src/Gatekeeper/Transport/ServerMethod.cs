using Gatekeeper.Protocol;
using Gatekeeper.Transport.Internal;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;

namespace Gatekeeper.Transport;

/// <summary>One gRPC method served by the endpoint, addressed by <c>/{service}/{method}</c>.</summary>
public abstract class ServerMethod
{
    private protected ServerMethod(string service, string name)
    {
        Service = service;
        Name = name;
        Path = "/" + service + "/" + name;
    }

    /// <summary>The fully qualified service name, e.g. <c>gatekeeper.v1.Gatekeeper</c>.</summary>
    public string Service { get; }

    /// <summary>The method name, e.g. <c>Decide</c>.</summary>
    public string Name { get; }

    /// <summary>The HTTP/2 :path of the method.</summary>
    public string Path { get; }

    /// <summary>A unary method: one request, one response.</summary>
    public static ServerMethod Unary<TRequest, TResponse>(string service, string name, MessageParser<TRequest> parser, Func<TRequest, ServerCallContext, ValueTask<TResponse>> handler)
        where TRequest : IMessage<TRequest>
        where TResponse : IMessage<TResponse> =>
        new UnaryMethod<TRequest, TResponse>(service, name, parser, handler);

    /// <summary>A server-streaming method: one request, any number of responses.</summary>
    public static ServerMethod ServerStreaming<TRequest, TResponse>(string service, string name, MessageParser<TRequest> parser, Func<TRequest, IServerStreamWriter<TResponse>, ServerCallContext, Task> handler)
        where TRequest : IMessage<TRequest>
        where TResponse : IMessage<TResponse> =>
        new ServerStreamingMethod<TRequest, TResponse>(service, name, parser, handler);

    /// <summary>Reads the request, runs the handler and writes the response and OK trailers.</summary>
    internal abstract Task InvokeAsync(HttpContext http, ServerCallContext call, string? requestEncoding, int maxReceiveMessageSize);

    private sealed class UnaryMethod<TRequest, TResponse>(string service, string name, MessageParser<TRequest> parser, Func<TRequest, ServerCallContext, ValueTask<TResponse>> handler)
        : ServerMethod(service, name)
        where TRequest : IMessage<TRequest>
        where TResponse : IMessage<TResponse>
    {
        internal override async Task InvokeAsync(HttpContext http, ServerCallContext call, string? requestEncoding, int maxReceiveMessageSize)
        {
            var request = await MessageReader.ReadSingleAsync(http.Request.BodyReader, parser, requestEncoding, maxReceiveMessageSize, call.CancellationToken);
            var pending = handler(request, call);
            TResponse response;
            if (pending.IsCompletedSuccessfully)
            {
                response = pending.Result;
            }
            else if (call.Deadline is null)
            {
                response = await pending;
            }
            else
            {
                // A handler that ignores its token must not hold the caller past the deadline.
                response = await pending.AsTask().WaitAsync(call.CancellationToken);
            }

            // An answer produced after the deadline is not delivered: the caller has already given up.
            call.CancellationToken.ThrowIfCancellationRequested();
            var compress = requestEncoding == GrpcProtocol.GzipEncoding;
            ResponseWriter.WriteHeaders(http.Response, compress);
            ResponseWriter.WriteMessage(http.Response, response, compress);
            ResponseWriter.WriteOkTrailers(http.Response, call);
        }
    }

    private sealed class ServerStreamingMethod<TRequest, TResponse>(string service, string name, MessageParser<TRequest> parser, Func<TRequest, IServerStreamWriter<TResponse>, ServerCallContext, Task> handler)
        : ServerMethod(service, name)
        where TRequest : IMessage<TRequest>
        where TResponse : IMessage<TResponse>
    {
        internal override async Task InvokeAsync(HttpContext http, ServerCallContext call, string? requestEncoding, int maxReceiveMessageSize)
        {
            var request = await MessageReader.ReadSingleAsync(http.Request.BodyReader, parser, requestEncoding, maxReceiveMessageSize, call.CancellationToken);
            var writer = new StreamWriter<TResponse>(http.Response, call, requestEncoding == GrpcProtocol.GzipEncoding);
            var pending = handler(request, writer, call);
            await (call.Deadline is null ? pending : pending.WaitAsync(call.CancellationToken));
            call.CancellationToken.ThrowIfCancellationRequested();
            writer.EnsureHeaders();
            ResponseWriter.WriteOkTrailers(http.Response, call);
        }
    }

    private sealed class StreamWriter<T>(HttpResponse response, ServerCallContext call, bool compress) : IServerStreamWriter<T>
        where T : IMessage
    {
        private bool _headersWritten;

        public async Task WriteAsync(T message, CancellationToken cancellationToken = default)
        {
            call.CancellationToken.ThrowIfCancellationRequested();
            EnsureHeaders();
            ResponseWriter.WriteMessage(response, message, compress);
            await response.BodyWriter.FlushAsync(cancellationToken);
        }

        public void EnsureHeaders()
        {
            if (!_headersWritten)
            {
                ResponseWriter.WriteHeaders(response, compress);
                _headersWritten = true;
            }
        }
    }
}
