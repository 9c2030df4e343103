using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Gatekeeper.V1;

namespace Gatekeeper.FunctionalTests.Security;

/// <summary>Server certificate rotation without restart: new connections get the new certificate; a bad set is refused.</summary>
public sealed class TlsRotationTests : IDisposable
{
    private const string Callers = """
        callers:
          spiffe://council.test/rotation:
            categories: '*'
            purposes: '*'
        """;

    private readonly TestPki _pki = new();

    public void Dispose() => _pki.Dispose();

    private static async Task<X509Certificate2> ServedCertificateAsync(int port, TestPki pki, ClientCredentials client)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        await using var tls = new SslStream(tcp.GetStream());
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.Add(pki.Ca);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "127.0.0.1",
            ApplicationProtocols = [SslApplicationProtocol.Http2],
            ClientCertificates = [client.Certificate],
            CertificateChainPolicy = policy,
        });
        return new X509Certificate2(tls.RemoteCertificate!);
    }

    private static void Replace(string path, string content)
    {
        // As a secret mount does it: the new file appears whole under the old name.
        var staged = path + ".new";
        File.WriteAllText(staged, content);
        File.Move(staged, path, overwrite: true);
    }

    [Fact]
    public async Task ServerCertificate_FilesReplaced_NewConnectionsGetNewCertificateWithoutRestart()
    {
        var first = _pki.IssueServer("first", commonName: "first.gatekeeper.test");
        var second = _pki.IssueServer("second", commonName: "second.gatekeeper.test");
        var client = _pki.IssueClient("client", uri: "spiffe://council.test/rotation");
        var certificatePath = _pki.WritePem("served.pem", File.ReadAllText(first.CertificatePath));
        var keyPath = _pki.WritePem("served.key", File.ReadAllText(first.KeyPath));
        await using var server = await SecureServer.StartTlsAsync(Callers, certificatePath, keyPath, _pki.CaPath, "--Gatekeeper:Tls:ReloadInterval=00:00:00.2");
        Assert.Equal(first.Certificate.Thumbprint, (await ServedCertificateAsync(server.Address.Port, _pki, client)).Thumbprint);

        Replace(keyPath, File.ReadAllText(second.KeyPath));
        Replace(certificatePath, File.ReadAllText(second.CertificatePath));

        var served = first.Certificate.Thumbprint;
        for (var deadline = DateTime.UtcNow.AddSeconds(15); served != second.Certificate.Thumbprint && DateTime.UtcNow < deadline;)
        {
            await Task.Delay(100);
            served = (await ServedCertificateAsync(server.Address.Port, _pki, client)).Thumbprint;
        }

        Assert.Equal(second.Certificate.Thumbprint, served);
        using var grpc = server.CreateClient(_pki, client);
        var answer = await grpc.DecideAsync(new DecideRequest { Category = "cpis_flag", Recipient = "nhs_cpis", Purpose = "cpis_alert", RequestId = "after-rotation" });
        Assert.NotEmpty(answer.DecisionId);
    }

    [Fact]
    public async Task ServerCertificate_ReplacedByGarbage_OldCertificateKeepsServingAndFailureLogged()
    {
        var first = _pki.IssueServer("first");
        var client = _pki.IssueClient("client", uri: "spiffe://council.test/rotation");
        var certificatePath = _pki.WritePem("served.pem", File.ReadAllText(first.CertificatePath));
        var keyPath = _pki.WritePem("served.key", File.ReadAllText(first.KeyPath));
        await using var server = await SecureServer.StartTlsAsync(Callers, certificatePath, keyPath, _pki.CaPath, "--Gatekeeper:Tls:ReloadInterval=00:00:00.2");

        Replace(certificatePath, "-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n");

        for (var deadline = DateTime.UtcNow.AddSeconds(15); DateTime.UtcNow < deadline && !server.Logs.Records.Any(r => r.EventId.Name == "TlsReloadFailed");)
        {
            await Task.Delay(100);
        }

        Assert.Contains(server.Logs.Records, r => r.EventId.Id == 601 && r.EventId.Name == "TlsReloadFailed");
        Assert.Equal(first.Certificate.Thumbprint, (await ServedCertificateAsync(server.Address.Port, _pki, client)).Thumbprint);
    }
}
