using System.Formats.Asn1;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatekeeper.Policy;
using Microsoft.AspNetCore.Http;

namespace Gatekeeper.Security;

/// <summary>
/// Names the caller of a request, as the policy's <c>callers</c> section and the audit log name it:
/// <list type="number">
/// <item>a client certificate's first SAN URI (e.g. <c>spiffe://council.example/case-management</c>), else</item>
/// <item>its first SAN DNS name, else</item>
/// <item>its subject common name, else <c>cert-sha256:&lt;hex&gt;</c>;</item>
/// <item>without a certificate: <c>anonymous-loopback</c> on 127.0.0.0/8 or ::1, <c>anonymous</c> anywhere else.</item>
/// </list>
/// Only printable ASCII names of at most 256 characters are used, so a hostile certificate cannot inject
/// control characters into logs. The name is worked out once per TLS connection and cached on it.
/// </summary>
public static class CallerIdentity
{
    private const int MaxLength = 256;
    private const string SubjectAlternativeNameOid = "2.5.29.17";
    private static readonly Asn1Tag DnsNameTag = new(TagClass.ContextSpecific, 2);
    private static readonly Asn1Tag UriTag = new(TagClass.ContextSpecific, 6);

    /// <summary>The caller of this request.</summary>
    public static string Of(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        // Set on the connection by the TLS handshake hook (KestrelSecurity); HTTP/2 streams see connection features.
        if (http.Features.Get<CallerFeature>() is { } feature)
        {
            return feature.Identity ??= FromConnection(http);
        }

        return FromConnection(http);
    }

    /// <summary>The name a client certificate gives its holder (see the type's remarks for the order).</summary>
    public static string FromCertificate(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        string? uri = null, dns = null;
        foreach (var extension in certificate.Extensions)
        {
            if (extension.Oid?.Value == SubjectAlternativeNameOid)
            {
                ReadAlternativeNames(extension.RawData, ref uri, ref dns);
                break;
            }
        }

        if (uri is not null)
        {
            return uri;
        }

        if (dns is not null)
        {
            return dns;
        }

        var commonName = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        return IsUsable(commonName) ? commonName : "cert-sha256:" + certificate.GetCertHashString(HashAlgorithmName.SHA256).ToLowerInvariant();
    }

    /// <summary>True for 127.0.0.0/8, ::1 and their IPv4-mapped forms.</summary>
    internal static bool IsLoopback(IPAddress? address)
    {
        if (address is null)
        {
            return false;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return IPAddress.IsLoopback(address);
    }

    private static string FromConnection(HttpContext http)
    {
        var certificate = http.Connection.ClientCertificate;
        if (certificate is not null)
        {
            return FromCertificate(certificate);
        }

        return IsLoopback(http.Connection.RemoteIpAddress) ? CallerPolicy.AnonymousLoopback : CallerPolicy.Anonymous;
    }

    private static void ReadAlternativeNames(ReadOnlyMemory<byte> der, ref string? uri, ref string? dns)
    {
        try
        {
            var names = new AsnReader(der, AsnEncodingRules.DER).ReadSequence();
            while (names.HasData)
            {
                var tag = names.PeekTag();
                if (uri is null && tag.HasSameClassAndValue(UriTag))
                {
                    var value = names.ReadCharacterString(UniversalTagNumber.IA5String, UriTag);
                    uri = IsUsable(value) ? value : null;
                }
                else if (dns is null && tag.HasSameClassAndValue(DnsNameTag))
                {
                    var value = names.ReadCharacterString(UniversalTagNumber.IA5String, DnsNameTag);
                    dns = IsUsable(value) ? value.ToLowerInvariant() : null;
                }
                else
                {
                    names.ReadEncodedValue();
                }
            }
        }
        catch (AsnContentException)
        {
            // A malformed extension names nobody; the subject (or the hash) still does. The CA signed it anyway.
        }
    }

    private static bool IsUsable(string? name) => CallerPolicy.IsValidIdentity(name);
}

/// <summary>Per-connection cache of the caller's name: one certificate parse per TLS connection, not per call.</summary>
internal sealed class CallerFeature
{
    public string? Identity { get; set; }
}
