using System.Runtime.CompilerServices;
using Gatekeeper.Client.Internal;
using Gatekeeper.Protocol;
using Google.Protobuf;

namespace Gatekeeper.Client;

/// <summary>
/// A server-streaming call. It starts when enumerated (once only): <c>await foreach (var m in call)</c>.
/// Ending the enumeration early, or cancelling it, resets the HTTP/2 stream. A status other than OK is thrown
/// as <see cref="RpcException"/> from the enumeration.
/// </summary>
/// <typeparam name="TResponse">The response message type.</typeparam>
public sealed class ServerStreamingCall<TResponse> : IAsyncEnumerable<TResponse>
    where TResponse : class, IMessage<TResponse>
{
    private readonly GatekeeperClient _client;
    private readonly Uri _uri;
    private readonly IMessage _request;
    private readonly MessageParser<TResponse> _parser;
    private readonly CallOptions? _options;
    private readonly CancellationToken _cancellationToken;
    private int _enumerated;

    internal ServerStreamingCall(
        GatekeeperClient client,
        Uri uri,
        IMessage request,
        MessageParser<TResponse> parser,
        CallOptions? options,
        CancellationToken cancellationToken)
    {
        _client = client;
        _uri = uri;
        _request = request;
        _parser = parser;
        _options = options;
        _cancellationToken = cancellationToken;
    }

    /// <summary>The response headers, once they have arrived; null before.</summary>
    public Metadata? ResponseHeaders { get; private set; }

    /// <summary>The trailers, once the stream has ended with status OK; null before.</summary>
    public Metadata? Trailers { get; private set; }

    /// <summary>Starts the call and returns its messages.</summary>
    /// <param name="cancellationToken">Cancels the call, in addition to the token the call was created with.</param>
    /// <exception cref="InvalidOperationException">The call has already been enumerated.</exception>
    public IAsyncEnumerator<TResponse> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _enumerated, 1) != 0)
        {
            throw new InvalidOperationException("A server-streaming call can be enumerated only once; start a new call instead.");
        }

        return ReadAllAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
    }

    private async IAsyncEnumerable<TResponse> ReadAllAsync([EnumeratorCancellation] CancellationToken enumeratorToken)
    {
        using var linked = _cancellationToken.CanBeCanceled && enumeratorToken.CanBeCanceled
            ? CancellationTokenSource.CreateLinkedTokenSource(_cancellationToken, enumeratorToken)
            : null;
        var token = linked?.Token ?? (enumeratorToken.CanBeCanceled ? enumeratorToken : _cancellationToken);

        var span = TraceContext.StartClientSpan(_uri);
        // A consumer that stops enumerating early cancels the call.
        var status = StatusCode.Cancelled;
        try
        {
            using var call = _client.CreateCall(_uri, _request, _parser, _options, token);
            try
            {
                await call.StartAsync().ConfigureAwait(false);
            }
            catch (RpcException ex)
            {
                status = ex.StatusCode;
                throw;
            }

            ResponseHeaders = call.BuildResponseHeaders();
            while (true)
            {
                TResponse? message;
                try
                {
                    message = await call.ReadMessageAsync().ConfigureAwait(false);
                }
                catch (RpcException ex)
                {
                    status = ex.StatusCode;
                    throw;
                }

                if (message is null)
                {
                    break;
                }

                yield return message;
            }

            status = StatusCode.OK;
            Trailers = call.BuildTrailers();
        }
        finally
        {
            TraceContext.StopClientSpan(span, status);
        }
    }
}
