using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Gatekeeper.Client;
using Gatekeeper.FunctionalTests.Admin;
using Gatekeeper.V1;
using StatusCode = Gatekeeper.Protocol.StatusCode;

namespace Gatekeeper.FunctionalTests.Security;

/// <summary>
/// Mutual TLS through the real server with a PKI made for the test: who gets through the handshake, what they
/// may ask, and that refusals are in the audit log.
/// </summary>
public sealed class MutualTlsTests : MutualTlsServerTests
{
    [Fact]
    public async Task Decide_TrustedClientCertificate_Answered()
    {
        using var client = _server.CreateClient(_pki, _admin);

        var answer = await client.DecideAsync(Cpis("mtls-ok"));

        Assert.Equal(Decision.AllowWithConditions, answer.Decision);
    }

    [Fact]
    public async Task Decide_NoClientCertificate_HandshakeRefused()
    {
        using var client = _server.CreateClient(_pki);

        var error = await Assert.ThrowsAsync<RpcException>(() => client.DecideAsync(Cpis("no-cert")));

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        // Control: the same server answers a client that does present a certificate.
        using var trusted = _server.CreateClient(_pki, _admin);
        await trusted.DecideAsync(Cpis("control"));
    }

    [Fact]
    public async Task Decide_ExpiredClientCertificate_HandshakeRefused()
    {
        var expired = _pki.IssueClient("expired", uri: CaseManagement, expired: true);
        using var client = _server.CreateClient(_pki, expired);

        var error = await Assert.ThrowsAsync<RpcException>(() => client.DecideAsync(Cpis("expired")));

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains(_server.Logs.Records, r => r.EventId.Name == "ClientCertificateRejected" && r.Message.Contains("NotTimeValid", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Decide_ClientCertificateFromAnotherCa_HandshakeRefused()
    {
        using var other = new TestPki("Some Other CA");
        var stranger = other.IssueClient("stranger", uri: CaseManagement);
        using var client = _server.CreateClient(_pki, stranger);

        var error = await Assert.ThrowsAsync<RpcException>(() => client.DecideAsync(Cpis("other-ca")));

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains(_server.Logs.Records, r => r.EventId.Name == "ClientCertificateRejected" && r.Message.Contains("CN=client", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Decide_ClientCertificateForServerAuthOnly_HandshakeRefused()
    {
        var serverOnly = _pki.IssueClient("server-only", uri: CaseManagement, serverAuthOnly: true);
        using var client = _server.CreateClient(_pki, serverOnly);

        var error = await Assert.ThrowsAsync<RpcException>(() => client.DecideAsync(Cpis("eku")));

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains(_server.Logs.Records, r => r.EventId.Name == "ClientCertificateRejected" && r.Message.Contains("NotValidForUsage", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Client_ServerCertificateFromAnotherCa_ClientRefusesTheServer()
    {
        using var other = new TestPki("Impostor CA");
        using var client = _server.CreateClient(other, _admin);

        var error = await Assert.ThrowsAsync<RpcException>(() => client.DecideAsync(Cpis("impostor")));

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.IsType<System.Security.Authentication.AuthenticationException>(error.InnerException?.InnerException);
    }

    [Fact]
    public async Task Client_NoTrustedCaConfigured_SystemStoreDoesNotTrustThePrivateCa()
    {
        using var client = new GatekeeperClient(new GatekeeperClientOptions { Address = _server.Address, ClientCertificate = _admin.Certificate, DefaultDeadline = TimeSpan.FromSeconds(15) });

        var error = await Assert.ThrowsAsync<RpcException>(() => client.DecideAsync(Cpis("system-store")));

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
    }

    [Fact]
    public async Task Handshake_RawSslStream_NegotiatesH2WithTls12OrLater()
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", _server.Address.Port);
        await using var tls = new SslStream(tcp.GetStream());
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.Add(_pki.Ca);

        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "127.0.0.1",
            ApplicationProtocols = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11],
            ClientCertificates = [_admin.Certificate],
            CertificateChainPolicy = policy,
        });

        Assert.Equal(SslApplicationProtocol.Http2, tls.NegotiatedApplicationProtocol);
        Assert.True(tls.SslProtocol is SslProtocols.Tls12 or SslProtocols.Tls13);
    }
}
