using System.Net;
using System.Reflection;
using Gatekeeper.Client.Internal;
using Gatekeeper.Protocol;
using Gatekeeper.V1;
using Google.Protobuf;
using Grpc.Health.V1;

namespace Gatekeeper.Client;

/// <summary>
/// The typed client of the gatekeeper: gRPC over HTTP/2 on <see cref="HttpClient"/>. Thread-safe; create one and
/// share it, since it holds the connection pool. Every failed call throws <see cref="RpcException"/>.
/// </summary>
/// <remarks>
/// Plain-text addresses (http://) speak HTTP/2 with prior knowledge; https:// negotiates HTTP/2 with ALPN.
/// The client can call any gRPC server, not only the gatekeeper: see
/// <see cref="UnaryCallAsync{TRequest, TResponse}"/> and <see cref="ServerStreamingCallAsync{TRequest, TResponse}"/>.
/// </remarks>
public sealed class GatekeeperClient : IDisposable
{
    /// <summary>The user-agent sent with every call: gatekeeper-dotnet/&lt;assembly version&gt;.</summary>
    public static readonly string UserAgent = "gatekeeper-dotnet/" + GetVersion();

    /// <summary>
    /// The <see cref="System.Diagnostics.ActivitySource"/> of the client spans: listen to it (with OpenTelemetry,
    /// <c>AddSource(GatekeeperClient.ActivitySourceName)</c>) to get one client span per call, which the server's
    /// span continues. Without a listener the client only propagates the caller's current activity, if any.
    /// </summary>
    public const string ActivitySourceName = "Gatekeeper.Client";

    private readonly HttpClient _httpClient;
    private readonly bool _ownsHttpClient;
    private readonly Uri _address;
    private readonly TimeSpan? _defaultDeadline;
    private readonly int _maxReceiveMessageSize;
    private readonly bool _compressRequests;
    private readonly TimeProvider _timeProvider;
    private readonly Uri _decideUri;
    private readonly Uri _decideBatchUri;
    private readonly Uri _healthCheckUri;
    private readonly Uri _healthWatchUri;

    /// <summary>
    /// Creates a client with its own connection pool (one <see cref="SocketsHttpHandler"/>), disposed with the client.
    /// </summary>
    /// <param name="options">The settings; <see cref="GatekeeperClientOptions.Address"/> is required.</param>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public GatekeeperClient(GatekeeperClientOptions options)
        : this(CreateOwnHttpClient(options), options, ownsHttpClient: true)
    {
    }

    /// <summary>
    /// Creates a client on an existing <see cref="HttpClient"/>, which it does not dispose. The HttpClient's handler
    /// decides connections and TLS; the certificate and connection settings of <paramref name="options"/> are ignored.
    /// Its <see cref="HttpClient.Timeout"/> only bounds the wait for response headers (reported as DeadlineExceeded);
    /// prefer deadlines and set it to <see cref="Timeout.InfiniteTimeSpan"/>.
    /// </summary>
    /// <param name="httpClient">The client; its BaseAddress is the server unless <paramref name="options"/> names one.</param>
    /// <param name="options">Optional call settings (deadline, receive limit, compression, clock).</param>
    /// <exception cref="ArgumentException">No address is known, or the options are invalid.</exception>
    public GatekeeperClient(HttpClient httpClient, GatekeeperClientOptions? options = null)
        : this(httpClient, options ?? new GatekeeperClientOptions(), ownsHttpClient: false)
    {
    }

    private GatekeeperClient(HttpClient httpClient, GatekeeperClientOptions options, bool ownsHttpClient)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        OptionsValidation.ThrowIfInvalid(options, addressRequired: httpClient.BaseAddress is null);
        _httpClient = httpClient;
        _ownsHttpClient = ownsHttpClient;
        _address = options.Address ?? httpClient.BaseAddress!;
        _defaultDeadline = options.DefaultDeadline;
        _maxReceiveMessageSize = options.MaxReceiveMessageSize;
        _compressRequests = options.CompressRequests;
        _timeProvider = options.TimeProvider;
        _decideUri = new Uri(_address, GatekeeperMethods.Decide);
        _decideBatchUri = new Uri(_address, GatekeeperMethods.DecideBatch);
        _healthCheckUri = new Uri(_address, GatekeeperMethods.HealthCheck);
        _healthWatchUri = new Uri(_address, GatekeeperMethods.HealthWatch);
    }

    /// <summary>The server the client calls.</summary>
    public Uri Address => _address;

    /// <summary>Asks for one decision (gatekeeper.v1.Gatekeeper/Decide).</summary>
    /// <param name="request">The question.</param>
    /// <param name="options">Deadline and headers of this call.</param>
    /// <param name="cancellationToken">Cancels the call (status Cancelled).</param>
    /// <returns>The decision.</returns>
    /// <exception cref="RpcException">The call did not end with status OK.</exception>
    public Task<DecideResponse> DecideAsync(DecideRequest request, CallOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return UnaryCoreAsync(_decideUri, request, DecideResponse.Parser, options, static (_, response) => response, cancellationToken);
    }

    /// <summary>Asks for several decisions in one call (gatekeeper.v1.Gatekeeper/DecideBatch).</summary>
    /// <param name="request">The questions.</param>
    /// <param name="options">Deadline and headers of this call.</param>
    /// <param name="cancellationToken">Cancels the call (status Cancelled).</param>
    /// <returns>The decisions, in request order.</returns>
    /// <exception cref="RpcException">The call did not end with status OK.</exception>
    public Task<DecideBatchResponse> DecideBatchAsync(DecideBatchRequest request, CallOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return UnaryCoreAsync(_decideBatchUri, request, DecideBatchResponse.Parser, options, static (_, response) => response, cancellationToken);
    }

    /// <summary>Checks the health of a service (grpc.health.v1.Health/Check).</summary>
    /// <param name="service">The service name; empty for the server as a whole.</param>
    /// <param name="options">Deadline and headers of this call.</param>
    /// <param name="cancellationToken">Cancels the call (status Cancelled).</param>
    /// <returns>The serving status.</returns>
    /// <exception cref="RpcException">The call did not end with status OK (NotFound for an unknown service).</exception>
    public Task<HealthCheckResponse> CheckHealthAsync(string service = "", CallOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(service);
        return UnaryCoreAsync(_healthCheckUri, new HealthCheckRequest { Service = service }, HealthCheckResponse.Parser, options, static (_, response) => response, cancellationToken);
    }

    /// <summary>
    /// Follows the health of a service (grpc.health.v1.Health/Watch): the current status, then every change,
    /// until the server ends the stream or the call is cancelled.
    /// </summary>
    /// <param name="service">The service name; empty for the server as a whole.</param>
    /// <param name="options">Deadline and headers of this call.</param>
    /// <param name="cancellationToken">Cancels the call (status Cancelled).</param>
    /// <returns>The call, to enumerate once.</returns>
    public ServerStreamingCall<HealthCheckResponse> WatchHealthAsync(string service = "", CallOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(service);
        return new ServerStreamingCall<HealthCheckResponse>(this, _healthWatchUri, new HealthCheckRequest { Service = service }, HealthCheckResponse.Parser, options, cancellationToken);
    }

    /// <summary>Makes a unary call to any method, and returns the response with its headers and trailers.</summary>
    /// <typeparam name="TRequest">The request message type.</typeparam>
    /// <typeparam name="TResponse">The response message type.</typeparam>
    /// <param name="path">The method path, <c>/package.Service/Method</c> (see <see cref="GatekeeperMethods"/>).</param>
    /// <param name="request">The request message.</param>
    /// <param name="parser">The response parser, e.g. <c>DecideResponse.Parser</c>.</param>
    /// <param name="options">Deadline and headers of this call.</param>
    /// <param name="cancellationToken">Cancels the call (status Cancelled).</param>
    /// <returns>The response, headers and trailers.</returns>
    /// <exception cref="RpcException">The call did not end with status OK.</exception>
    public Task<CallResult<TResponse>> UnaryCallAsync<TRequest, TResponse>(
        string path,
        TRequest request,
        MessageParser<TResponse> parser,
        CallOptions? options = null,
        CancellationToken cancellationToken = default)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(parser);
        return UnaryCoreAsync(
            ResolvePath(path),
            request,
            parser,
            options,
            static (call, response) => new CallResult<TResponse>(response, call.BuildResponseHeaders(), call.BuildTrailers()),
            cancellationToken);
    }

    /// <summary>Makes a server-streaming call to any method. The call starts when enumerated.</summary>
    /// <typeparam name="TRequest">The request message type.</typeparam>
    /// <typeparam name="TResponse">The response message type.</typeparam>
    /// <param name="path">The method path, <c>/package.Service/Method</c>.</param>
    /// <param name="request">The request message.</param>
    /// <param name="parser">The response parser.</param>
    /// <param name="options">Deadline and headers of this call; the deadline covers the whole stream.</param>
    /// <param name="cancellationToken">Cancels the call (status Cancelled).</param>
    /// <returns>The call, to enumerate once.</returns>
    public ServerStreamingCall<TResponse> ServerStreamingCallAsync<TRequest, TResponse>(
        string path,
        TRequest request,
        MessageParser<TResponse> parser,
        CallOptions? options = null,
        CancellationToken cancellationToken = default)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(parser);
        return new ServerStreamingCall<TResponse>(this, ResolvePath(path), request, parser, options, cancellationToken);
    }

    /// <summary>Disposes the connection pool when the client created it; otherwise does nothing.</summary>
    public void Dispose()
    {
        if (_ownsHttpClient)
        {
            _httpClient.Dispose();
        }
    }

    /// <summary>Builds the request and the call that will send it. Throws at once for a cancelled or expired call.</summary>
    internal GrpcCall<TResponse> CreateCall<TResponse>(Uri uri, IMessage message, MessageParser<TResponse> parser, CallOptions? options, CancellationToken cancellationToken)
        where TResponse : class, IMessage<TResponse>
    {
        if (cancellationToken.IsCancellationRequested)
        {
            throw new RpcException(StatusCode.Cancelled, "The call was cancelled by the caller before it started.");
        }

        var timeout = ResolveTimeout(options);
        if (timeout <= TimeSpan.Zero)
        {
            throw new RpcException(StatusCode.DeadlineExceeded, "The deadline had already passed when the call started.");
        }

        var request = new HttpRequestMessage(HttpMethod.Post, uri)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new GrpcRequestContent(message, _compressRequests),
        };
        var headers = request.Headers;
        headers.TryAddWithoutValidation("te", "trailers");
        headers.TryAddWithoutValidation("user-agent", UserAgent);
        headers.TryAddWithoutValidation(GrpcProtocol.AcceptEncodingHeader, GrpcProtocol.SupportedEncodings);
        if (_compressRequests)
        {
            headers.TryAddWithoutValidation(GrpcProtocol.EncodingHeader, GrpcProtocol.GzipEncoding);
        }

        if (timeout is { } value)
        {
            headers.TryAddWithoutValidation(GrpcProtocol.TimeoutHeader, GrpcTimeout.Format(value));
        }

        if (options?.Headers is { } metadata)
        {
            foreach (var entry in metadata)
            {
                headers.TryAddWithoutValidation(entry.Key, entry.IsBinary ? BinaryMetadata.Encode(entry.ValueBytes) : entry.Value);
            }
        }

        TraceContext.Inject(headers);
        return new GrpcCall<TResponse>(_httpClient, request, parser, _maxReceiveMessageSize, timeout, _timeProvider, cancellationToken);
    }

    private static HttpClient CreateOwnHttpClient(GatekeeperClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        OptionsValidation.ThrowIfInvalid(options, addressRequired: true);

        // Deadlines bound calls; HttpClient.Timeout would also cut long server streams such as Health/Watch.
        return new HttpClient(HandlerFactory.Create(options), disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
    }

    private static string GetVersion()
    {
        var assembly = typeof(GatekeeperClient).Assembly;
        var version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? assembly.GetName().Version?.ToString()
            ?? "0.0.0";

        // Drop the "+<commit>" build metadata: the version is what servers log and group by.
        var plus = version.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? version : version[..plus];
    }

    private async Task<TResult> UnaryCoreAsync<TResponse, TResult>(
        Uri uri,
        IMessage request,
        MessageParser<TResponse> parser,
        CallOptions? options,
        Func<GrpcCall<TResponse>, TResponse, TResult> result,
        CancellationToken cancellationToken)
        where TResponse : class, IMessage<TResponse>
    {
        // Current while the request is built, so that its traceparent names this span.
        var span = TraceContext.StartClientSpan(uri);
        var status = StatusCode.Unknown;
        try
        {
            using var call = CreateCall(uri, request, parser, options, cancellationToken);
            await call.StartAsync().ConfigureAwait(false);
            var response = await call.ReadMessageAsync().ConfigureAwait(false)
                ?? throw new RpcException(StatusCode.Internal, "Bad gRPC response: the server ended a unary call with status OK but sent no response message.", call.BuildTrailers());
            await call.ReadEndAsync().ConfigureAwait(false);
            status = StatusCode.OK;
            return result(call, response);
        }
        catch (RpcException ex)
        {
            status = ex.StatusCode;
            throw;
        }
        finally
        {
            TraceContext.StopClientSpan(span, status);
        }
    }

    private Uri ResolvePath(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (path[0] != '/' || path.IndexOf('/', 1) < 0)
        {
            throw new ArgumentException($"A gRPC method path looks like /package.Service/Method; got '{path}'.", nameof(path));
        }

        return new Uri(_address, path);
    }

    /// <summary>The call's timeout: the earlier of its Timeout and Deadline, else the default; null for none.</summary>
    private TimeSpan? ResolveTimeout(CallOptions? options)
    {
        var timeout = options?.Timeout;
        var deadline = options?.Deadline;
        if (timeout is null && deadline is null)
        {
            return _defaultDeadline == Timeout.InfiniteTimeSpan ? null : _defaultDeadline;
        }

        if (timeout == Timeout.InfiniteTimeSpan)
        {
            timeout = null;
        }

        if (deadline is { } at && at != DateTime.MaxValue)
        {
            var remaining = at.ToUniversalTime() - _timeProvider.GetUtcNow().UtcDateTime;
            timeout = timeout is null || remaining < timeout ? remaining : timeout;
        }

        return timeout;
    }
}
