using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Gatekeeper.Client.Internal;

/// <summary>Builds the one SocketsHttpHandler a client shares across all its calls.</summary>
internal static class HandlerFactory
{
    public static SocketsHttpHandler Create(GatekeeperClientOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            // One HTTP/2 connection caps concurrent streams (100 on Kestrel by default); more calls open more connections.
            EnableMultipleHttp2Connections = true,
            PooledConnectionLifetime = options.PooledConnectionLifetime,
            KeepAlivePingDelay = options.KeepAlivePingDelay,
            KeepAlivePingTimeout = options.KeepAlivePingTimeout,

            // Pinging idle connections is what C-core servers punish; calls in flight are what needs protecting.
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            ConnectTimeout = options.ConnectTimeout,

            // gRPC never redirects, sets cookies or uses HTTP compression; h2c with prior knowledge cannot cross
            // an HTTP/1.1 forward proxy, so a proxy from the environment would only break plain-text calls.
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
        };

        if (options.ClientCertificate is not null || options.TrustedCa is not null)
        {
            handler.SslOptions = CreateSslOptions(options);
        }

        return handler;
    }

    private static SslClientAuthenticationOptions CreateSslOptions(GatekeeperClientOptions options)
    {
        var ssl = new SslClientAuthenticationOptions();
        if (options.ClientCertificate is { } certificate)
        {
            ssl.ClientCertificates = [certificate];
            // Always offer it: the default selection skips a certificate whose issuer is not in the server's
            // list of acceptable CAs, and a server behind an intermediate CA names that CA, not ours.
            ssl.LocalCertificateSelectionCallback = (_, _, _, _, _) => certificate;
        }

        if (options.TrustedCa is not null)
        {
            // The chain policy replaces only the trust anchors: SslStream still checks the host name and validity.
            var policy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
            };
            policy.CustomTrustStore.AddRange(options.TrustedCa);
            ssl.CertificateChainPolicy = policy;
        }

        return ssl;
    }
}
