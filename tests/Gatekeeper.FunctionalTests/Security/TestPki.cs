using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatekeeper.FunctionalTests.Security;

/// <summary>
/// A throw-away PKI made at test time with System.Security.Cryptography: a CA, server certificates for
/// 127.0.0.1/localhost and client certificates, written as PEM files to a temp folder deleted on dispose.
/// </summary>
public sealed class TestPki : IDisposable
{
    private static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2");

    public TestPki(string caName = "Gatekeeper Test CA")
    {
        Folder = Directory.CreateTempSubdirectory("gk-pki-").FullName;
        Ca = CreateCa(caName);
        CaPath = WritePem("ca.pem", Ca.ExportCertificatePem());
    }

    public string Folder { get; }

    public X509Certificate2 Ca { get; }

    public string CaPath { get; }

    /// <summary>A server certificate for 127.0.0.1 and localhost, as cert/key PEM files.</summary>
    public (string CertificatePath, string KeyPath, X509Certificate2 Certificate) IssueServer(string name, string commonName = "gatekeeper.test")
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([ServerAuth], false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        var certificate = Sign(request, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1)).CopyWithPrivateKey(key);
        return (WritePem(name + ".pem", certificate.ExportCertificatePem()), WritePem(name + ".key", key.ExportPkcs8PrivateKeyPem()), certificate);
    }

    /// <summary>A client certificate; <paramref name="uri"/> / <paramref name="dns"/> become SANs when given.</summary>
    public ClientCredentials IssueClient(string name, string? uri = null, string? dns = null, string commonName = "client", bool expired = false, bool serverAuthOnly = false)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        if (uri is not null || dns is not null)
        {
            var san = new SubjectAlternativeNameBuilder();
            if (uri is not null)
            {
                san.AddUri(new Uri(uri));
            }

            if (dns is not null)
            {
                san.AddDnsName(dns);
            }

            request.CertificateExtensions.Add(san.Build());
        }

        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([serverAuthOnly ? ServerAuth : ClientAuth], false));
        var notAfter = expired ? DateTimeOffset.UtcNow.AddDays(-1) : DateTimeOffset.UtcNow.AddDays(1);
        var certificate = Sign(request, DateTimeOffset.UtcNow.AddDays(-10), notAfter).CopyWithPrivateKey(key);
        var certificatePath = WritePem(name + ".pem", certificate.ExportCertificatePem());
        var keyPath = WritePem(name + ".key", key.ExportPkcs8PrivateKeyPem());
        return new ClientCredentials(certificatePath, keyPath, certificate);
    }

    public string WritePem(string name, string pem)
    {
        var path = Path.Combine(Folder, name);
        File.WriteAllText(path, pem);
        return path;
    }

    public void Dispose()
    {
        Ca.Dispose();
        Directory.Delete(Folder, recursive: true);
    }

    private X509Certificate2 Sign(CertificateRequest request, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        var serial = new byte[12];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7F;
        return request.Create(Ca, notBefore, notAfter, serial);
    }

    private static X509Certificate2 CreateCa(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-30), DateTimeOffset.UtcNow.AddDays(30));
    }
}

/// <summary>A client certificate with its key, as PEM files and as an object.</summary>
public sealed record ClientCredentials(string CertificatePath, string KeyPath, X509Certificate2 Certificate);
