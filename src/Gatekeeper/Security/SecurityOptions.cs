using System.Net;

namespace Gatekeeper.Security;

/// <summary>
/// Transport security and abuse limits, bound from <c>Gatekeeper</c> (<c>AllowInsecure</c>, <c>Tls:*</c>,
/// <c>RateLimit:*</c>, <c>Limits:*</c>). Validated at start-up; every invalid setting is reported at once.
/// </summary>
public sealed class SecurityOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Gatekeeper";

    /// <summary>
    /// Serve plain-text HTTP/2 on addresses other than loopback. Defaults to false: a plain-text binding on any
    /// other address stops the start-up, and a plain-text connection from another host is closed. Only for a
    /// network where something else (a service mesh sidecar) provides TLS.
    /// </summary>
    public bool AllowInsecure { get; set; }

    /// <summary>TLS and mutual TLS (<c>Gatekeeper:Tls</c>).</summary>
    public TlsOptions Tls { get; set; } = new();

    /// <summary>Per-caller token buckets (<c>Gatekeeper:RateLimit</c>).</summary>
    public RateLimitOptions RateLimit { get; set; } = new();

    /// <summary>Kestrel connection, HTTP/2 and slow-client limits (<c>Gatekeeper:Limits</c>).</summary>
    public ServerLimitsOptions Limits { get; set; } = new();

    /// <summary>Every invalid setting, given the URLs the server will listen on; empty when all are valid.</summary>
    internal IEnumerable<string> Validate(IReadOnlyList<string> urls)
    {
        var errors = new List<string>();
        errors.AddRange(Tls.Validate());
        errors.AddRange(RateLimit.Validate());
        errors.AddRange(Limits.Validate());
        foreach (var url in urls)
        {
            if (!TryParseUrl(url, out var https, out var host))
            {
                continue; // Kestrel reports malformed URLs itself, with its own wording.
            }

            if (https && !Tls.Enabled)
            {
                errors.Add($"{url}: an https address needs {TlsOptions.Section}:CertificatePath and KeyPath.");
            }
            else if (!https && !AllowInsecure && !IsLoopbackHost(host))
            {
                errors.Add($"{url}: plain-text HTTP/2 is only served on loopback (127.0.0.1, [::1], localhost); use https with {TlsOptions.Section}:CertificatePath, or set {Section}:AllowInsecure=true if a sidecar provides TLS.");
            }
        }

        return errors;
    }

    /// <summary>Splits an ASP.NET Core listen URL (<c>http://host:port</c>, host may be <c>*</c>, <c>+</c> or <c>[::]</c>).</summary>
    internal static bool TryParseUrl(string url, out bool https, out string host)
    {
        https = false;
        host = string.Empty;
        var trimmed = url.Trim();
        int scheme = trimmed.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0)
        {
            return false;
        }

        var name = trimmed[..scheme];
        if (name.Equals("https", StringComparison.OrdinalIgnoreCase))
        {
            https = true;
        }
        else if (!name.Equals("http", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var rest = trimmed[(scheme + 3)..];
        int end = rest.StartsWith('[') ? rest.IndexOf(']', StringComparison.Ordinal) + 1 : rest.IndexOfAny([':', '/']);
        host = end <= 0 ? rest : rest[..end];
        return host.Length > 0;
    }

    internal static bool IsLoopbackHost(string host)
    {
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        var bare = host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;
        return IPAddress.TryParse(bare, out var ip) && IPAddress.IsLoopback(ip);
    }
}

/// <summary>TLS settings, bound from <c>Gatekeeper:Tls</c>. TLS is on when <see cref="CertificatePath"/> is set.</summary>
public sealed class TlsOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Gatekeeper:Tls";

    /// <summary>Defaults to 5 seconds.</summary>
    public static readonly TimeSpan DefaultReloadInterval = TimeSpan.FromSeconds(5);

    /// <summary>PEM file with the server certificate, then any intermediate certificates (sent to callers).</summary>
    public string? CertificatePath { get; set; }

    /// <summary>PEM file with the server certificate's private key (PKCS#8, RSA or EC; unencrypted).</summary>
    public string? KeyPath { get; set; }

    /// <summary>
    /// PEM file with the certificate authorities whose client certificates are accepted. When set, every caller
    /// needs a client certificate that chains to one of them, is within its validity period and allows client
    /// authentication; anything else fails the TLS handshake. Callers are then named by their certificate.
    /// </summary>
    public string? ClientCaPath { get; set; }

    /// <summary>
    /// How often the three files are re-read. Changed files that load are used for new connections (rotation
    /// without restart; open connections keep their session); files that do not load are logged and the
    /// previous certificates stay in use. Polling rather than file events, because mounted secrets are replaced
    /// by symlink swaps that file watchers miss. Defaults to 5 seconds.
    /// </summary>
    public TimeSpan ReloadInterval { get; set; } = DefaultReloadInterval;

    /// <summary>True when a server certificate is configured.</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(CertificatePath);

    /// <summary>True when callers must present a client certificate.</summary>
    public bool MutualTls => Enabled && !string.IsNullOrWhiteSpace(ClientCaPath);

    internal IEnumerable<string> Validate()
    {
        bool hasCertificate = !string.IsNullOrWhiteSpace(CertificatePath);
        bool hasKey = !string.IsNullOrWhiteSpace(KeyPath);
        if (hasCertificate != hasKey)
        {
            yield return $"{Section}:CertificatePath and {Section}:KeyPath go together; set both or neither.";
        }

        if (!string.IsNullOrWhiteSpace(ClientCaPath) && !hasCertificate)
        {
            yield return $"{Section}:ClientCaPath needs {Section}:CertificatePath and KeyPath: client certificates are only asked for over TLS.";
        }

        foreach (var (name, path) in new[] { ("CertificatePath", CertificatePath), ("KeyPath", KeyPath), ("ClientCaPath", ClientCaPath) })
        {
            if (!string.IsNullOrWhiteSpace(path) && !File.Exists(path))
            {
                yield return $"{Section}:{name}: file '{path}' does not exist.";
            }
        }

        if (ReloadInterval < TimeSpan.FromMilliseconds(100) || ReloadInterval > TimeSpan.FromDays(1))
        {
            yield return $"{Section}:ReloadInterval must be between 00:00:00.1 and 1.00:00:00 (was {ReloadInterval}).";
        }
    }
}

/// <summary>Per-caller rate limits, bound from <c>Gatekeeper:RateLimit</c>; a caller's entry in the policy may override them.</summary>
public sealed class RateLimitOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Gatekeeper:RateLimit";

    /// <summary>Defaults to 5,000 calls per second per caller.</summary>
    public const double DefaultPermitsPerSecond = 5_000;

    /// <summary>Defaults to 10,000 calls.</summary>
    public const int DefaultBurst = 10_000;

    /// <summary>
    /// Sustained calls per second each caller may make (a token bucket refilled continuously); 0 turns rate
    /// limiting off. Calls over it get RESOURCE_EXHAUSTED with <c>grpc-retry-pushback-ms</c>. Defaults to 5,000.
    /// </summary>
    public double PermitsPerSecond { get; set; } = DefaultPermitsPerSecond;

    /// <summary>Calls a caller may make at once after being idle (the bucket's size). Defaults to 10,000.</summary>
    public int Burst { get; set; } = DefaultBurst;

    internal IEnumerable<string> Validate()
    {
        if (!(PermitsPerSecond >= 0) || double.IsInfinity(PermitsPerSecond))
        {
            yield return $"{Section}:PermitsPerSecond must be 0 (off) or a positive number (was {PermitsPerSecond}).";
        }

        if (Burst < 1)
        {
            yield return $"{Section}:Burst must be at least 1 (was {Burst}).";
        }
    }
}

/// <summary>
/// Kestrel limits tuned for small unary gRPC calls from a few long-lived client connections, bound from
/// <c>Gatekeeper:Limits</c>. Every value is the limit Kestrel enforces; see the README table.
/// </summary>
public sealed class ServerLimitsOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Gatekeeper:Limits";

    /// <summary>Concurrent HTTP/2 streams (calls) per connection. Defaults to 256: callers multiplex many small calls.</summary>
    public int MaxStreamsPerConnection { get; set; } = 256;

    /// <summary>Open connections in total; 0 = no limit. Defaults to 10,000.</summary>
    public long MaxConcurrentConnections { get; set; } = 10_000;

    /// <summary>HPACK dynamic table size. Defaults to 4,096 bytes (the HTTP/2 default).</summary>
    public int HeaderTableSize { get; set; } = 4_096;

    /// <summary>Largest single header (name + value, after HPACK). Defaults to 8 KiB: gRPC metadata is small.</summary>
    public int MaxRequestHeaderFieldSize { get; set; } = 8 * 1024;

    /// <summary>Largest header list of a request. Defaults to 16 KiB.</summary>
    public int MaxRequestHeadersTotalSize { get; set; } = 16 * 1024;

    /// <summary>Most headers in one request. Defaults to 64.</summary>
    public int MaxRequestHeaderCount { get; set; } = 64;

    /// <summary>
    /// Largest request body. 0 (the default) = twice <c>Gatekeeper:Grpc:MaxReceiveMessageSize</c> plus the
    /// prefixes: a unary call carries one message, and the second one must still be seen to be refused as
    /// UNIMPLEMENTED rather than cut off.
    /// </summary>
    public long MaxRequestBodySize { get; set; }

    /// <summary>Largest HTTP/2 frame the server accepts. Defaults to 16 KiB (the HTTP/2 minimum and default).</summary>
    public int MaxFrameSize { get; set; } = 16 * 1024;

    /// <summary>An idle connection (no calls in flight) is closed after this. Defaults to 2 minutes.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// The server PINGs a connection that has sent nothing for this long, and closes it when the ping is not
    /// answered within <see cref="KeepAlivePingTimeout"/>: finds dead peers behind NAT. Defaults to 1 minute.
    /// </summary>
    public TimeSpan KeepAlivePingDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Defaults to 20 seconds.</summary>
    public TimeSpan KeepAlivePingTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Time to receive a request's headers. Defaults to 10 seconds.</summary>
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Time to complete the TLS handshake. Defaults to 10 seconds.</summary>
    public TimeSpan TlsHandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Slow-client protection: a request body arriving slower than this (after a 5 s grace period) aborts the
    /// call. Defaults to 240 bytes/s; 0 turns the check off.
    /// </summary>
    public double MinRequestBodyDataRate { get; set; } = 240;

    /// <summary>
    /// Slow-reader protection: a caller reading the response slower than this (after a 5 s grace period) is
    /// disconnected. Defaults to 240 bytes/s; 0 turns the check off.
    /// </summary>
    public double MinResponseDataRate { get; set; } = 240;

    /// <summary>The request body limit in force for a given message size limit.</summary>
    internal long EffectiveMaxRequestBodySize(int maxReceiveMessageSize) =>
        MaxRequestBodySize > 0 ? MaxRequestBodySize : 2 * ((long)maxReceiveMessageSize + 5);

    internal IEnumerable<string> Validate()
    {
        if (MaxStreamsPerConnection < 1)
        {
            yield return $"{Section}:MaxStreamsPerConnection must be at least 1 (was {MaxStreamsPerConnection}).";
        }

        if (MaxConcurrentConnections < 0)
        {
            yield return $"{Section}:MaxConcurrentConnections must be 0 (no limit) or more (was {MaxConcurrentConnections}).";
        }

        if (HeaderTableSize < 0)
        {
            yield return $"{Section}:HeaderTableSize must be 0 or more (was {HeaderTableSize}).";
        }

        if (MaxRequestHeaderFieldSize < 1024)
        {
            yield return $"{Section}:MaxRequestHeaderFieldSize must be at least 1024 bytes (was {MaxRequestHeaderFieldSize}).";
        }

        if (MaxRequestHeadersTotalSize < 1024)
        {
            yield return $"{Section}:MaxRequestHeadersTotalSize must be at least 1024 bytes (was {MaxRequestHeadersTotalSize}).";
        }

        if (MaxRequestHeaderCount < 8)
        {
            yield return $"{Section}:MaxRequestHeaderCount must be at least 8 (was {MaxRequestHeaderCount}).";
        }

        if (MaxRequestBodySize < 0)
        {
            yield return $"{Section}:MaxRequestBodySize must be 0 (derived from the message limit) or more (was {MaxRequestBodySize}).";
        }

        if (MaxFrameSize is < 16 * 1024 or > (16 * 1024 * 1024) - 1)
        {
            yield return $"{Section}:MaxFrameSize must be between 16384 and 16777215 bytes, as HTTP/2 requires (was {MaxFrameSize}).";
        }

        foreach (var (name, value) in new[] { ("KeepAliveTimeout", KeepAliveTimeout), ("KeepAlivePingDelay", KeepAlivePingDelay), ("KeepAlivePingTimeout", KeepAlivePingTimeout), ("RequestHeadersTimeout", RequestHeadersTimeout), ("TlsHandshakeTimeout", TlsHandshakeTimeout) })
        {
            if (value <= TimeSpan.Zero || value > TimeSpan.FromDays(1))
            {
                yield return $"{Section}:{name} must be between 00:00:00.001 and 1.00:00:00 (was {value}).";
            }
        }

        if (!(MinRequestBodyDataRate >= 0) || double.IsInfinity(MinRequestBodyDataRate))
        {
            yield return $"{Section}:MinRequestBodyDataRate must be 0 (off) or a positive number of bytes per second (was {MinRequestBodyDataRate}).";
        }

        if (!(MinResponseDataRate >= 0) || double.IsInfinity(MinResponseDataRate))
        {
            yield return $"{Section}:MinResponseDataRate must be 0 (off) or a positive number of bytes per second (was {MinResponseDataRate}).";
        }
    }
}
