using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.Security;

/// <summary>The certificates in force: what new TLS connections present and which client CAs they trust.</summary>
public sealed class ServerCredentials
{
    internal ServerCredentials(X509Certificate2 certificate, SslStreamCertificateContext context, X509Certificate2Collection? clientCas, byte[] fingerprint)
    {
        Certificate = certificate;
        Context = context;
        ClientCas = clientCas;
        Fingerprint = fingerprint;
    }

    /// <summary>The server certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The certificate with its intermediates, built once so that handshakes do not rebuild the chain.</summary>
    public SslStreamCertificateContext Context { get; }

    /// <summary>Trusted client certificate authorities; null when client certificates are not asked for.</summary>
    public X509Certificate2Collection? ClientCas { get; }

    /// <summary>SHA-256 over the files this was loaded from: a poll that reads the same bytes changes nothing.</summary>
    internal byte[] Fingerprint { get; }
}

/// <summary>
/// Loads the PEM server certificate, key and client CA bundle, and re-reads them every
/// <see cref="TlsOptions.ReloadInterval"/>: changed files that load are used by new connections (rotation without
/// restart); files that do not load (half-written, key and certificate out of step) are logged and the previous
/// set stays in use until a later poll reads a set that loads.
/// </summary>
public sealed class CertificateStore : IDisposable
{
    private readonly TlsOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ITimer? _timer;
    private readonly Lock _pollLock = new();
    private ServerCredentials _current;
    private byte[] _lastFailed = [];

    /// <summary>Loads the files now; throws <see cref="InvalidOperationException"/> naming the problem when they do not load.</summary>
    public CertificateStore(TlsOptions options, TimeProvider time, ILogger<CertificateStore> logger, bool watch = true)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        _options = options;
        _time = time;
        _logger = logger;
        var bytes = ReadFiles();
        _current = Load(bytes, Fingerprint(bytes), out var error)
            ?? throw new InvalidOperationException($"{TlsOptions.Section}: the TLS files do not load: {error}");
        Announce(_current);
        if (watch)
        {
            _timer = time.CreateTimer(static s => ((CertificateStore)s!).Poll(), this, options.ReloadInterval, options.ReloadInterval);
        }
    }

    /// <summary>The set in force; read once per handshake.</summary>
    public ServerCredentials Current => Volatile.Read(ref _current);

    /// <summary>Raised after a new set is in force.</summary>
    public event Action<ServerCredentials>? Reloaded;

    /// <summary>Re-reads the files; true when a new set is now in force. Called by the timer; tests call it directly.</summary>
    public bool Poll()
    {
        lock (_pollLock)
        {
            byte[][] bytes;
            try
            {
                bytes = ReadFiles();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A secret volume in the middle of a symlink swap: the next poll sees the whole new set.
                SecurityLog.ReloadFailed(_logger, ex.Message);
                return false;
            }

            var fingerprint = Fingerprint(bytes);
            if (fingerprint.AsSpan().SequenceEqual(_current.Fingerprint) || fingerprint.AsSpan().SequenceEqual(_lastFailed))
            {
                return false;
            }

            var loaded = Load(bytes, fingerprint, out var error);
            if (loaded is null)
            {
                _lastFailed = fingerprint;
                SecurityLog.ReloadFailed(_logger, error!);
                return false;
            }

            Volatile.Write(ref _current, loaded);
            Announce(loaded);
            Reloaded?.Invoke(loaded);
            return true;
        }
    }

    /// <inheritdoc />
    public void Dispose() => _timer?.Dispose();

    private byte[][] ReadFiles() =>
    [
        File.ReadAllBytes(_options.CertificatePath!),
        File.ReadAllBytes(_options.KeyPath!),
        string.IsNullOrWhiteSpace(_options.ClientCaPath) ? [] : File.ReadAllBytes(_options.ClientCaPath),
    ];

    private static byte[] Fingerprint(byte[][] files)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> length = stackalloc byte[4];
        foreach (var file in files)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(length, file.Length);
            hash.AppendData(length);
            hash.AppendData(file);
        }

        return hash.GetHashAndReset();
    }

    private ServerCredentials? Load(byte[][] files, byte[] fingerprint, out string? error)
    {
        try
        {
            var certificatePem = System.Text.Encoding.UTF8.GetString(files[0]);
            var keyPem = System.Text.Encoding.UTF8.GetString(files[1]);
            var certificate = X509Certificate2.CreateFromPem(certificatePem, keyPem);
            var all = new X509Certificate2Collection();
            all.ImportFromPem(certificatePem);
            var intermediates = new X509Certificate2Collection();
            for (int i = 1; i < all.Count; i++)
            {
                intermediates.Add(all[i]);
            }

            X509Certificate2Collection? clientCas = null;
            if (!string.IsNullOrWhiteSpace(_options.ClientCaPath))
            {
                clientCas = [];
                clientCas.ImportFromPem(System.Text.Encoding.UTF8.GetString(files[2]));
                if (clientCas.Count == 0)
                {
                    error = $"{_options.ClientCaPath} holds no PEM CERTIFICATE block";
                    return null;
                }
            }

            // offline: building the chain must never fetch intermediates over the network.
            var context = SslStreamCertificateContext.Create(certificate, intermediates, offline: true);
            error = null;
            return new ServerCredentials(certificate, context, clientCas, fingerprint);
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            error = $"{_options.CertificatePath} / {_options.KeyPath}: {ex.Message}";
            return null;
        }
    }

    private void Announce(ServerCredentials credentials)
    {
        var certificate = credentials.Certificate;
        SecurityLog.CertificateInUse(
            _logger,
            certificate.Subject,
            certificate.Thumbprint,
            certificate.NotAfter.ToUniversalTime(),
            credentials.ClientCas is null ? "not asked for" : $"required, {credentials.ClientCas.Count} trusted CA(s)");
        var now = _time.GetUtcNow().UtcDateTime;
        if (now < certificate.NotBefore.ToUniversalTime() || now > certificate.NotAfter.ToUniversalTime())
        {
            SecurityLog.CertificateNotCurrentlyValid(_logger, certificate.Subject, certificate.NotBefore.ToUniversalTime(), certificate.NotAfter.ToUniversalTime());
        }
    }
}
