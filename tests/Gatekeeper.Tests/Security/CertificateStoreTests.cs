using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatekeeper.Security;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatekeeper.Tests.Security;

/// <summary>Loading and re-reading the PEM files (polled directly: no timer, no waiting).</summary>
public sealed class CertificateStoreTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("gk-store-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private (string Certificate, string Key, string Thumbprint) Write(string name, string commonName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var certificatePath = Path.Combine(_folder, name + ".pem");
        var keyPath = Path.Combine(_folder, name + ".key");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (certificatePath, keyPath, certificate.Thumbprint);
    }

    private CertificateStore Store(string certificate, string key, string? ca = null) =>
        new(new TlsOptions { CertificatePath = certificate, KeyPath = key, ClientCaPath = ca }, new ManualTimeProvider(), NullLogger<CertificateStore>.Instance, watch: false);

    [Fact]
    public void Poll_FilesUnchanged_SameCredentials()
    {
        var first = Write("a", "a");
        using var store = Store(first.Certificate, first.Key);
        var before = store.Current;

        Assert.False(store.Poll());
        Assert.Same(before, store.Current);
    }

    [Fact]
    public void Poll_BothFilesReplaced_NewCertificateInForceAndEventRaised()
    {
        var first = Write("a", "a");
        var second = Write("b", "b");
        var served = Path.Combine(_folder, "served.pem");
        var servedKey = Path.Combine(_folder, "served.key");
        File.Copy(first.Certificate, served);
        File.Copy(first.Key, servedKey);
        using var store = Store(served, servedKey);
        ServerCredentials? raised = null;
        store.Reloaded += c => raised = c;

        File.Copy(second.Certificate, served, overwrite: true);
        File.Copy(second.Key, servedKey, overwrite: true);

        Assert.True(store.Poll());
        Assert.Equal(second.Thumbprint, store.Current.Certificate.Thumbprint);
        Assert.Same(store.Current, raised);
    }

    [Fact]
    public void Poll_CertificateReplacedButKeyNotYet_OldSetKeptUntilKeyArrives()
    {
        var first = Write("a", "a");
        var second = Write("b", "b");
        var served = Path.Combine(_folder, "served.pem");
        var servedKey = Path.Combine(_folder, "served.key");
        File.Copy(first.Certificate, served);
        File.Copy(first.Key, servedKey);
        using var store = Store(served, servedKey);

        File.Copy(second.Certificate, served, overwrite: true);
        Assert.False(store.Poll());
        Assert.Equal(first.Thumbprint, store.Current.Certificate.Thumbprint);

        File.Copy(second.Key, servedKey, overwrite: true);
        Assert.True(store.Poll());
        Assert.Equal(second.Thumbprint, store.Current.Certificate.Thumbprint);
    }

    [Fact]
    public void Constructor_KeyDoesNotMatchCertificate_ThrowsNamingTheSection()
    {
        var first = Write("a", "a");
        var second = Write("b", "b");

        var error = Assert.Throws<InvalidOperationException>(() => Store(first.Certificate, second.Key));

        Assert.Contains("Gatekeeper:Tls", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_ClientCaFileWithoutCertificates_Throws()
    {
        var first = Write("a", "a");
        var ca = Path.Combine(_folder, "ca.pem");
        File.WriteAllText(ca, "nothing here\n");

        var error = Assert.Throws<InvalidOperationException>(() => Store(first.Certificate, first.Key, ca));

        Assert.Contains("no PEM CERTIFICATE", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_ClientCaBundle_AllCasLoaded()
    {
        var first = Write("a", "a");
        var second = Write("b", "b");
        var ca = Path.Combine(_folder, "ca.pem");
        File.WriteAllText(ca, File.ReadAllText(first.Certificate) + "\n" + File.ReadAllText(second.Certificate) + "\n");

        using var store = Store(first.Certificate, first.Key, ca);

        Assert.Equal(2, store.Current.ClientCas!.Count);
    }
}
