using System.Net.Sockets;
using Gatekeeper.Protocol;
using Gatekeeper.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gatekeeper.Transport;

/// <summary>
/// What a handler knows about its call: the method, the deadline, the caller, the request metadata, and
/// the response metadata it wants to send. Read request metadata before the first await that can outlive
/// the call (after the call ends the underlying HTTP context is recycled by Kestrel).
/// </summary>
public sealed class ServerCallContext
{
    private List<KeyValuePair<string, string>>? _responseTrailers;

    internal ServerCallContext(HttpContext httpContext, string method, DateTimeOffset? deadline, CancellationToken cancellationToken)
    {
        HttpContext = httpContext;
        Method = method;
        Deadline = deadline;
        CancellationToken = cancellationToken;
    }

    /// <summary>The full method path, e.g. <c>/gatekeeper.v1.Gatekeeper/Decide</c>.</summary>
    public string Method { get; }

    /// <summary>When the caller stops waiting, from grpc-timeout; null when the caller set no deadline.</summary>
    public DateTimeOffset? Deadline { get; }

    /// <summary>Cancelled when the deadline passes or the caller cancels.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>The underlying HTTP/2 request.</summary>
    public HttpContext HttpContext { get; }

    /// <summary>The caller's address in gRPC's peer format, e.g. <c>ipv4:127.0.0.1:51234</c>.</summary>
    public string Peer
    {
        get
        {
            var connection = HttpContext.Connection;
            var ip = connection.RemoteIpAddress;
            if (ip is null)
            {
                return "unknown";
            }

            return ip.AddressFamily == AddressFamily.InterNetworkV6
                ? $"ipv6:[{ip}]:{connection.RemotePort}"
                : $"ipv4:{ip}:{connection.RemotePort}";
        }
    }

    /// <summary>
    /// Who is calling, as the policy's callers section and the audit log name it: the client certificate's SAN
    /// URI, SAN DNS name or CN, or anonymous-loopback / anonymous (see <see cref="CallerIdentity"/>). Worked out
    /// once per TLS connection.
    /// </summary>
    public string Caller => CallerIdentity.Of(HttpContext);

    /// <summary>The request metadata (HTTP/2 headers). Keys are lower-case.</summary>
    public IHeaderDictionary RequestHeaders => HttpContext.Request.Headers;

    /// <summary>A text metadata value sent by the caller, or null.</summary>
    public string? GetRequestHeader(string key)
    {
        var values = HttpContext.Request.Headers[key];
        return StringValues.IsNullOrEmpty(values) ? null : values[0];
    }

    /// <summary>A binary (<c>-bin</c>) metadata value sent by the caller, decoded from base64; null when absent or malformed.</summary>
    public byte[]? GetRequestBinaryHeader(string key)
    {
        var value = GetRequestHeader(key);
        return value is not null && BinaryMetadata.TryDecode(value, out var bytes) ? bytes : null;
    }

    /// <summary>Adds a response header; call before the first message is written.</summary>
    public void AddResponseHeader(string key, string value) => HttpContext.Response.Headers.Append(key, value);

    /// <summary>Adds a binary response header (the key must end in <c>-bin</c>).</summary>
    public void AddResponseHeader(string key, ReadOnlySpan<byte> value) => AddResponseHeader(CheckBinaryKey(key), BinaryMetadata.Encode(value));

    /// <summary>Adds a response trailer, sent after the messages together with grpc-status.</summary>
    public void AddResponseTrailer(string key, string value) => (_responseTrailers ??= []).Add(new(key, value));

    /// <summary>Adds a binary response trailer (the key must end in <c>-bin</c>).</summary>
    public void AddResponseTrailer(string key, ReadOnlySpan<byte> value) => AddResponseTrailer(CheckBinaryKey(key), BinaryMetadata.Encode(value));

    internal List<KeyValuePair<string, string>>? ResponseTrailers => _responseTrailers;

    private static string CheckBinaryKey(string key) =>
        BinaryMetadata.IsBinaryKey(key) ? key : throw new ArgumentException("Binary metadata keys must end in '-bin'.", nameof(key));
}
