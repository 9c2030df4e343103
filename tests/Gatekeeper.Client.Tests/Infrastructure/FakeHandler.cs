using System.Net;

namespace Gatekeeper.Client.Tests.Infrastructure;

/// <summary>An HttpMessageHandler that records what the client sends and answers with a crafted response.</summary>
internal sealed class FakeHandler(Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> respond) : HttpMessageHandler
{
    private int _calls;

    public FakeHandler(Func<HttpResponseMessage> respond)
        : this((_, _) => Task.FromResult(respond()))
    {
    }

    public int Calls => _calls;

    public CapturedRequest? LastRequest { get; private set; }

    /// <summary>Completes when a request has reached the handler (and its body has been read).</summary>
    public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A handler that never answers: it waits until the call is cancelled.</summary>
    public static FakeHandler Hanging() => new(static async (_, ct) =>
    {
        await Task.Delay(Timeout.Infinite, ct);
        throw new InvalidOperationException("unreachable");
    });

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        var body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var header in request.Headers.NonValidated)
        {
            headers[header.Key] = header.Value.ToString();
        }

        if (request.Content is not null)
        {
            foreach (var header in request.Content.Headers.NonValidated)
            {
                headers[header.Key] = header.Value.ToString();
            }
        }

        LastRequest = new CapturedRequest(request.Method, request.RequestUri!, request.Version, request.VersionPolicy, headers, body);
        Entered.TrySetResult();
        return await respond(request, cancellationToken);
    }
}

internal sealed record CapturedRequest(
    HttpMethod Method,
    Uri Uri,
    Version Version,
    HttpVersionPolicy VersionPolicy,
    IReadOnlyDictionary<string, string> Headers,
    byte[] Body);

internal static class TestClient
{
    public static readonly Uri Address = new("http://gatekeeper.test:5000");

    public static GatekeeperClient Create(HttpMessageHandler handler, Action<GatekeeperClientOptions>? configure = null)
    {
        var options = new GatekeeperClientOptions();
        configure?.Invoke(options);
        return new GatekeeperClient(new HttpClient(handler) { BaseAddress = Address }, options);
    }

    public static HttpResponseMessage Response(
        HttpContent content,
        HttpStatusCode status = HttpStatusCode.OK,
        string? contentType = "application/grpc",
        IEnumerable<(string Name, string Value)>? headers = null,
        IEnumerable<(string Name, string Value)>? trailers = null)
    {
        var response = new HttpResponseMessage(status) { Version = HttpVersion.Version20, Content = content };
        if (contentType is not null)
        {
            response.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        foreach (var (name, value) in headers ?? [])
        {
            response.Headers.TryAddWithoutValidation(name, value);
        }

        foreach (var (name, value) in trailers ?? [])
        {
            response.TrailingHeaders.TryAddWithoutValidation(name, value);
        }

        return response;
    }

    /// <summary>A normal response: messages in the body, then trailers (grpc-status 0 unless given).</summary>
    public static HttpResponseMessage Ok(byte[] body, IEnumerable<(string, string)>? headers = null, IEnumerable<(string, string)>? trailers = null) =>
        Response(new ByteArrayContent(body), headers: headers, trailers: trailers ?? [("grpc-status", "0")]);

    /// <summary>A Trailers-Only response: the status in the only HEADERS frame, no body.</summary>
    public static HttpResponseMessage TrailersOnly(int grpcStatus, string? grpcMessage = null, HttpStatusCode status = HttpStatusCode.OK)
    {
        var headers = new List<(string, string)> { ("grpc-status", grpcStatus.ToString(System.Globalization.CultureInfo.InvariantCulture)) };
        if (grpcMessage is not null)
        {
            headers.Add(("grpc-message", grpcMessage));
        }

        return Response(new ByteArrayContent([]), status, headers: headers);
    }
}
