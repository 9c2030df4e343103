using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatekeeper.Redis.Tests.Infrastructure;

namespace Gatekeeper.Redis.Tests;

/// <summary>A private CA and a server certificate for localhost/127.0.0.1, and redis-server speaking only TLS.</summary>
public sealed class RedisTlsFixture : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gk-redis-tls-").FullName;

    public RedisTlsFixture()
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Gatekeeper test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var now = DateTimeOffset.UtcNow;
        Authority = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));

        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var serverRequest = new CertificateRequest("CN=localhost", serverKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        serverRequest.CertificateExtensions.Add(names.Build());
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var serverCert = serverRequest.Create(Authority, now.AddMinutes(-5), now.AddDays(1), [1, 2, 3, 4]);

        var caFile = Path.Combine(_directory, "ca.crt");
        var certFile = Path.Combine(_directory, "server.crt");
        var keyFile = Path.Combine(_directory, "server.key");
        File.WriteAllText(caFile, Authority.ExportCertificatePem());
        File.WriteAllText(certFile, serverCert.ExportCertificatePem());
        File.WriteAllText(keyFile, serverKey.ExportPkcs8PrivateKeyPem());
        Server = RedisServer.StartTls(certFile, keyFile, caFile);
    }

    public X509Certificate2 Authority { get; }

    public RedisServer Server { get; }

    /// <summary>Trusts only the private CA, and still requires the name to match.</summary>
    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            return false;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.Add(Authority);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return custom.Build(leaf);
    }

    public void Dispose()
    {
        Server.Dispose();
        Authority.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}

public sealed class RedisTlsTests : IClassFixture<RedisTlsFixture>
{
    private readonly RedisTlsFixture _fixture;

    public RedisTlsTests(RedisTlsFixture fixture) => _fixture = fixture;

    [Fact]
    public async Task Tls_TrustedPrivateCa_CommandsAndPubSubWork()
    {
        var options = RedisConnectionOptions.Parse(_fixture.Server.Configuration("ssl=true,sslHost=localhost"));
        options.CertificateValidation = _fixture.Validate;
        await using var connection = await RedisConnection.ConnectAsync(options);

        await connection.SetAsync("tls:k", "secret"u8.ToArray());

        Assert.Equal("secret"u8.ToArray(), await connection.GetAsync("tls:k"));
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var subscriber = connection.GetSubscriber();
        await Poll.UntilAsync(() => subscriber.State == RedisConnectionState.Connected, TimeSpan.FromSeconds(5), "the TLS subscriber connected");
        await subscriber.SubscribeAsync("tls:ch", m => received.TrySetResult(System.Text.Encoding.UTF8.GetString(m.Span)));
        await connection.PublishAsync("tls:ch", "hi"u8.ToArray());
        Assert.Equal("hi", await received.Task.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Tls_CertificateNotTrustedBySystem_ConnectFails()
    {
        var error = await Assert.ThrowsAsync<RedisConnectionException>(() =>
            RedisConnection.ConnectAsync(_fixture.Server.Configuration("ssl=true,sslHost=localhost")));

        Assert.Contains("TLS", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tls_SslHostNotInCertificate_ConnectFails()
    {
        var options = RedisConnectionOptions.Parse(_fixture.Server.Configuration("ssl=true,sslHost=redis.elsewhere.example"));
        options.CertificateValidation = _fixture.Validate;

        await Assert.ThrowsAsync<RedisConnectionException>(() => RedisConnection.ConnectAsync(options));
    }

    [Fact]
    public async Task PlainTextClient_AgainstTlsPort_FailsCleanly()
    {
        var options = RedisConnectionOptions.Parse(_fixture.Server.Configuration("connectTimeout=1000,syncTimeout=1000"));

        await Assert.ThrowsAsync<RedisConnectionException>(() => RedisConnection.ConnectAsync(options));
    }
}
