using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatekeeper.Security;

/// <summary>
/// Decides at the TLS handshake whether a client certificate is acceptable: it must chain to one of the
/// configured client CAs (only those: the system store is not consulted), be valid now and allow client
/// authentication (no extended key usage, or clientAuth). Revocation is not checked: the CAs are private and
/// short-lived certificates are the revocation mechanism (see the README).
/// </summary>
internal static class ClientCertificateValidator
{
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2", "Client Authentication");

    /// <summary>True when acceptable; otherwise <paramref name="reason"/> says why.</summary>
    public static bool Validate(X509Certificate2 certificate, X509Chain? presented, X509Certificate2Collection trustedCas, DateTime now, out string reason)
    {
        using var chain = new X509Chain();
        var policy = chain.ChainPolicy;
        policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        policy.CustomTrustStore.AddRange(trustedCas);
        policy.RevocationMode = X509RevocationMode.NoCheck;
        policy.DisableCertificateDownloads = true;
        policy.VerificationTime = now;
        policy.VerificationTimeIgnored = false;
        policy.ApplicationPolicy.Add(ClientAuthentication);
        if (presented is not null)
        {
            // Intermediates the client sent with its certificate; trust still has to end at a configured CA.
            for (int i = 1; i < presented.ChainElements.Count; i++)
            {
                policy.ExtraStore.Add(presented.ChainElements[i].Certificate);
            }
        }

        try
        {
            if (chain.Build(certificate))
            {
                reason = string.Empty;
                return true;
            }

            var problems = new List<string>();
            foreach (var status in chain.ChainStatus)
            {
                problems.Add(status.Status.ToString());
            }

            reason = problems.Count == 0 ? "the chain did not build" : string.Join(", ", problems);
            return false;
        }
        catch (CryptographicException ex)
        {
            reason = ex.Message;
            return false;
        }
        finally
        {
            foreach (var element in chain.ChainElements)
            {
                if (!ReferenceEquals(element.Certificate, certificate))
                {
                    element.Certificate.Dispose();
                }
            }
        }
    }
}
