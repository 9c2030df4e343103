using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatekeeper.Policy;
using Gatekeeper.Security;
using Microsoft.AspNetCore.Http;

namespace Gatekeeper.Tests.Security;

/// <summary>How a caller is named from its certificate or connection.</summary>
public sealed class CallerIdentityTests
{
    private static X509Certificate2 Certificate(string subject, Action<SubjectAlternativeNameBuilder>? san = null, byte[]? rawSan = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        if (san is not null)
        {
            var builder = new SubjectAlternativeNameBuilder();
            san(builder);
            request.CertificateExtensions.Add(builder.Build());
        }

        if (rawSan is not null)
        {
            request.CertificateExtensions.Add(new X509Extension("2.5.29.17", rawSan, false));
        }

        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    [Fact]
    public void FromCertificate_SanUriAndDns_UriWins()
    {
        using var certificate = Certificate("CN=cms", b =>
        {
            b.AddDnsName("cms.council.test");
            b.AddUri(new Uri("spiffe://council.test/cms"));
        });

        Assert.Equal("spiffe://council.test/cms", CallerIdentity.FromCertificate(certificate));
    }

    [Fact]
    public void FromCertificate_DnsOnly_DnsLowerCased()
    {
        using var certificate = Certificate("CN=cms", b => b.AddDnsName("CMS.Council.Test"));

        Assert.Equal("cms.council.test", CallerIdentity.FromCertificate(certificate));
    }

    [Fact]
    public void FromCertificate_NoSan_CommonName()
    {
        using var certificate = Certificate("CN=Case Management, O=Council");

        Assert.Equal("Case Management", CallerIdentity.FromCertificate(certificate));
    }

    [Fact]
    public void FromCertificate_ControlCharactersInNames_NotUsedAndHashNamesIt()
    {
        // SEQUENCE { dNSName "bad\x01.test" }, written by hand: the builder refuses such names, a hostile CA would not.
        using var certificate = Certificate("CN=evil\u0007name", rawSan: [0x30, 0x0B, 0x82, 0x09, (byte)'b', (byte)'a', (byte)'d', 0x01, (byte)'.', (byte)'t', (byte)'e', (byte)'s', (byte)'t']);

        var name = CallerIdentity.FromCertificate(certificate);

        Assert.StartsWith("cert-sha256:", name, StringComparison.Ordinal);
        Assert.Equal(certificate.GetCertHashString(HashAlgorithmName.SHA256).ToLowerInvariant(), name["cert-sha256:".Length..]);
    }

    [Fact]
    public void FromCertificate_MalformedSanExtension_FallsBackToCommonName()
    {
        using var certificate = Certificate("CN=fallback", rawSan: [0x30, 0x05, 0x86, 0x10, 0x41]);

        Assert.Equal("fallback", CallerIdentity.FromCertificate(certificate));
    }

    [Theory]
    [InlineData("127.0.0.1", CallerPolicy.AnonymousLoopback)]
    [InlineData("127.8.9.10", CallerPolicy.AnonymousLoopback)]
    [InlineData("::1", CallerPolicy.AnonymousLoopback)]
    [InlineData("::ffff:127.0.0.1", CallerPolicy.AnonymousLoopback)]
    [InlineData("10.0.0.7", CallerPolicy.Anonymous)]
    [InlineData("::ffff:10.0.0.7", CallerPolicy.Anonymous)]
    public void Of_NoCertificate_LoopbackOrAnonymous(string address, string expected)
    {
        var http = new DefaultHttpContext();
        http.Connection.RemoteIpAddress = IPAddress.Parse(address);

        Assert.Equal(expected, CallerIdentity.Of(http));
    }

    [Fact]
    public void Of_ClientCertificate_NamedByCertificate()
    {
        using var certificate = Certificate("CN=x", b => b.AddUri(new Uri("spiffe://council.test/x")));
        var http = new DefaultHttpContext();
        http.Connection.RemoteIpAddress = IPAddress.Loopback;
        http.Connection.ClientCertificate = certificate;

        Assert.Equal("spiffe://council.test/x", CallerIdentity.Of(http));
    }
}
