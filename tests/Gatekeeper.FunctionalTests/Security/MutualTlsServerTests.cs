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
/// A real server over mutual TLS with a PKI made for the test and two callers: one entitled to everything
/// (admin included) and one to CP-IS alerts only. Shared by the mTLS and caller-entitlement tests.
/// </summary>
public abstract class MutualTlsServerTests : IAsyncLifetime
{
    protected const string CaseManagement = "spiffe://council.test/case-management";
    protected const string Limited = "spiffe://council.test/cpis-only";
    private const string Callers = $"""
        callers:
          {CaseManagement}:
            categories: '*'
            purposes: '*'
            admin: '*'
          {Limited}:
            categories: [cpis_flag]
            purposes: [cpis_alert]
        """;

    protected readonly TestPki _pki = new();
    protected SecureServer _server = null!;
    protected ClientCredentials _admin = null!;
    protected ClientCredentials _limited = null!;

    public async Task InitializeAsync()
    {
        _admin = _pki.IssueClient("admin", uri: CaseManagement);
        _limited = _pki.IssueClient("limited", uri: Limited, dns: "cpis.council.test");
        _server = await SecureServer.StartTlsAsync(_pki, Callers, mutual: true);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _pki.Dispose();
    }

    protected static DecideRequest Cpis(string requestId) => new()
    {
        Category = "cpis_flag",
        Recipient = "nhs_cpis",
        Purpose = "cpis_alert",
        RequestId = requestId,
        Context = new DecisionContext { SubjectStatuses = { "looked_after" } },
    };
}
