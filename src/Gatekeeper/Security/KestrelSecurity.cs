using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Gatekeeper.Transport;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.Security;

/// <summary>Kestrel limits and TLS from <see cref="SecurityOptions"/>.</summary>
public static class KestrelSecurity
{
    private const long MinBodyLimit = 1024 * 1024;

    /// <summary>How long a closing TLS connection may take to hand its last responses to the socket.</summary>
    internal static readonly TimeSpan TlsDrainTimeout = TimeSpan.FromSeconds(5);
    private static readonly AsyncLocal<HandshakeState?> Handshake = new();

    /// <summary>
    /// Applies <see cref="ServerLimitsOptions"/>. The request body limit never goes below 1 MiB: Kestrel counts
    /// what the stream has buffered (up to its flow-control window), so a smaller limit would cut an oversized
    /// message before the gRPC layer reads its 5-byte prefix and answers RESOURCE_EXHAUSTED.
    /// </summary>
    public static void ApplyLimits(this KestrelServerOptions kestrel, ServerLimitsOptions options, GrpcServerOptions grpc)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(grpc);
        var limits = kestrel.Limits;
        limits.MaxConcurrentConnections = options.MaxConcurrentConnections == 0 ? null : options.MaxConcurrentConnections;
        limits.MaxRequestHeadersTotalSize = options.MaxRequestHeadersTotalSize;
        limits.MaxRequestHeaderCount = options.MaxRequestHeaderCount;
        limits.MaxRequestBodySize = Math.Max(MinBodyLimit, options.EffectiveMaxRequestBodySize(grpc.MaxReceiveMessageSize));
        limits.KeepAliveTimeout = options.KeepAliveTimeout;
        limits.RequestHeadersTimeout = options.RequestHeadersTimeout;
        limits.MinRequestBodyDataRate = options.MinRequestBodyDataRate > 0 ? new MinDataRate(options.MinRequestBodyDataRate, TimeSpan.FromSeconds(5)) : null;
        limits.MinResponseDataRate = options.MinResponseDataRate > 0 ? new MinDataRate(options.MinResponseDataRate, TimeSpan.FromSeconds(5)) : null;
        var http2 = limits.Http2;
        http2.MaxStreamsPerConnection = options.MaxStreamsPerConnection;
        http2.HeaderTableSize = options.HeaderTableSize;
        http2.MaxRequestHeaderFieldSize = options.MaxRequestHeaderFieldSize;
        http2.MaxFrameSize = options.MaxFrameSize;
        http2.KeepAlivePingDelay = options.KeepAlivePingDelay;
        http2.KeepAlivePingTimeout = options.KeepAlivePingTimeout;
    }

    /// <summary>
    /// Serves https addresses with the certificates of <paramref name="store"/> (read per handshake, so rotation
    /// needs no restart), TLS 1.2/1.3 and ALPN h2 (the endpoints are HTTP/2-only). With client CAs, a client
    /// certificate is required and checked by <see cref="ClientCertificateValidator"/>; the caller's name is then
    /// cached on the connection. The https addresses among <paramref name="urls"/> (the host's <c>urls</c>) get
    /// <see cref="TlsRecordCoalescer"/> behind their TLS, so that responses share TLS records.
    /// </summary>
    public static void UseGatekeeperTls(this KestrelServerOptions kestrel, CertificateStore store, ServerLimitsOptions limits, TimeProvider time, ILogger logger, IEnumerable<string>? urls = null)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(limits);
        if (CoalescedTlsPorts(urls ?? []) is { Count: > 0 } ports)
        {
            kestrel.ConfigureEndpointDefaults(listen =>
            {
                // Kestrel keeps only the last defaults callback: this one also does what GatekeeperApp's does.
                listen.Protocols = HttpProtocols.Http2;
                if (listen.IPEndPoint is { } endpoint && ports.Contains(endpoint.Port))
                {
                    // TLS here rather than by the address binder (which adds it after these defaults), so that the
                    // coalescer can sit between TLS and HTTP/2. Same options: ConfigureHttpsDefaults below.
                    listen.UseHttps();
                    listen.Use(TlsRecordCoalescer.Middleware(listen.KestrelServerOptions.Limits.MaxResponseBufferSize, TlsDrainTimeout));
                }
            });
        }

        kestrel.ConfigureHttpsDefaults(https =>
        {
            https.SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13;
            https.HandshakeTimeout = limits.TlsHandshakeTimeout;
            https.CheckCertificateRevocation = false;
            // Kestrel needs a certificate source at start-up; OnAuthenticate below replaces it with the prebuilt context.
            https.ServerCertificateSelector = (_, _) => store.Current.Certificate;
            https.ClientCertificateMode = store.Current.ClientCas is null ? ClientCertificateMode.NoCertificate : ClientCertificateMode.RequireCertificate;
            https.OnAuthenticate = (connection, ssl) => OnAuthenticate(connection, ssl, store.Current);
            // Kestrel refuses a missing certificate itself when one is required; this checks the ones presented.
            https.ClientCertificateValidation = (certificate, chain, _) => ValidateClient(certificate, chain, store, time, logger);
        });
    }

    /// <summary>
    /// Ports that only https addresses use, so that an endpoint on one of them is known to be TLS before the address
    /// binder says so. A port an http address also uses (port 0 for both, say) keeps Kestrel's own TLS, uncoalesced.
    /// </summary>
    internal static HashSet<int> CoalescedTlsPorts(IEnumerable<string> urls)
    {
        var https = new HashSet<int>();
        var plain = new HashSet<int>();
        foreach (var url in urls)
        {
            BindingAddress address;
            try
            {
                address = BindingAddress.Parse(url);
            }
            catch (FormatException)
            {
                continue;
            }

            if (address.IsUnixPipe || address.IsNamedPipe)
            {
                continue;
            }

            (string.Equals(address.Scheme, "https", StringComparison.OrdinalIgnoreCase) ? https : plain).Add(address.Port);
        }

        https.ExceptWith(plain);
        return https;
    }

    private static void OnAuthenticate(ConnectionContext connection, SslServerAuthenticationOptions ssl, ServerCredentials credentials)
    {
        // The prebuilt context sends the intermediates and skips a chain build per handshake.
        ssl.ServerCertificateSelectionCallback = null;
        ssl.ServerCertificate = null;
        ssl.ServerCertificateContext = credentials.Context;
        connection.Features.Set(new CallerFeature());
        // Kestrel runs the handshake in this async flow right after this callback, so the validation callback
        // (which Kestrel gives no connection) can name the caller's address in its log.
        Handshake.Value = new HandshakeState(connection, credentials);
    }

    private static bool ValidateClient(X509Certificate2 certificate, X509Chain? chain, CertificateStore store, TimeProvider time, ILogger logger)
    {
        var state = Handshake.Value;
        var cas = (state?.Credentials ?? store.Current).ClientCas;
        var remote = state?.Connection.RemoteEndPoint?.ToString() ?? "unknown";
        if (cas is null)
        {
            return true;
        }

        if (ClientCertificateValidator.Validate(certificate, chain, cas, time.GetUtcNow().UtcDateTime, out var reason))
        {
            return true;
        }

        SecurityLog.ClientCertificateRejected(logger, certificate.Subject, remote, reason);
        return false;
    }

    private sealed record HandshakeState(ConnectionContext Connection, ServerCredentials Credentials);
}
