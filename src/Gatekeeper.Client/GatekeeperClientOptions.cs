using System.Security.Cryptography.X509Certificates;
using Gatekeeper.Protocol;

namespace Gatekeeper.Client;

/// <summary>Settings of a <see cref="GatekeeperClient"/>.</summary>
public sealed class GatekeeperClientOptions
{
    /// <summary>Default of <see cref="PooledConnectionLifetime"/>: 5 minutes.</summary>
    public static readonly TimeSpan DefaultPooledConnectionLifetime = TimeSpan.FromMinutes(5);

    /// <summary>Default of <see cref="KeepAlivePingDelay"/>: 5 minutes.</summary>
    public static readonly TimeSpan DefaultKeepAlivePingDelay = TimeSpan.FromMinutes(5);

    /// <summary>Default of <see cref="KeepAlivePingTimeout"/>: 20 seconds.</summary>
    public static readonly TimeSpan DefaultKeepAlivePingTimeout = TimeSpan.FromSeconds(20);

    /// <summary>Default of <see cref="ConnectTimeout"/>: 10 seconds.</summary>
    public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The server, e.g. <c>http://127.0.0.1:5000</c> (HTTP/2 with prior knowledge) or <c>https://host:443</c>
    /// (HTTP/2 negotiated with ALPN). Required unless the client is built on an HttpClient with a BaseAddress.
    /// </summary>
    public Uri? Address { get; set; }

    /// <summary>
    /// The deadline of calls that set none in <see cref="CallOptions"/>. Null (the default) means no deadline.
    /// </summary>
    public TimeSpan? DefaultDeadline { get; set; }

    /// <summary>The largest response message accepted, checked on the length prefix. Defaults to 4 MiB.</summary>
    public int MaxReceiveMessageSize { get; set; } = GrpcProtocol.DefaultMaxReceiveMessageSize;

    /// <summary>Compress request messages with gzip (grpc-encoding: gzip). Defaults to false.</summary>
    public bool CompressRequests { get; set; }

    /// <summary>A client certificate for mutual TLS (https addresses only). Must carry its private key.</summary>
    public X509Certificate2? ClientCertificate { get; set; }

    /// <summary>
    /// Certificate authorities to trust instead of the system store, e.g. the service's private CA (https only).
    /// Host name checks still apply.
    /// </summary>
    public X509Certificate2Collection? TrustedCa { get; set; }

    /// <summary>
    /// How long a connection is reused before new calls go to a fresh one, so that DNS changes and new
    /// server instances are picked up. In-flight calls finish on the old connection. Defaults to 5 minutes.
    /// </summary>
    public TimeSpan PooledConnectionLifetime { get; set; } = DefaultPooledConnectionLifetime;

    /// <summary>
    /// Idle time after which an HTTP/2 PING checks that a connection with calls in flight is still alive.
    /// Defaults to 5 minutes: gRPC C-core servers answer more frequent pings without data with a
    /// GOAWAY ("too_many_pings"). <see cref="Timeout.InfiniteTimeSpan"/> turns pings off.
    /// </summary>
    public TimeSpan KeepAlivePingDelay { get; set; } = DefaultKeepAlivePingDelay;

    /// <summary>How long to wait for a PING reply before the connection is closed. Defaults to 20 seconds.</summary>
    public TimeSpan KeepAlivePingTimeout { get; set; } = DefaultKeepAlivePingTimeout;

    /// <summary>How long opening a connection (TCP and TLS) may take. Defaults to 10 seconds.</summary>
    public TimeSpan ConnectTimeout { get; set; } = DefaultConnectTimeout;

    /// <summary>The clock used for deadlines. Defaults to <see cref="TimeProvider.System"/>; tests pass a fake one.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
