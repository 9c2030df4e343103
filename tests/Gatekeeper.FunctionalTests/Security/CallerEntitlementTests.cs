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
/// The policy's callers section through the real server over mutual TLS: callers are named by their
/// certificates, answers and refusals are audited under that name, and refusals are PERMISSION_DENIED.
/// </summary>
public sealed class CallerEntitlementTests : MutualTlsServerTests
{
    [Fact]
    public async Task Decide_AnsweredAndRefused_ServerSpanNamesTheCaller()
    {
        var spans = new System.Collections.Concurrent.ConcurrentQueue<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => ReferenceEquals(source, global::Gatekeeper.Telemetry.GatekeeperMetrics.ActivitySource),
            Sample = static (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        using var limited = _server.CreateClient(_pki, _limited);

        await limited.DecideAsync(Cpis("span-answered"));
        await Assert.ThrowsAsync<RpcException>(() => limited.DecideAsync(new DecideRequest { Category = "case_record", Recipient = "police", Purpose = "crime_prevention", RequestId = "span-refused" }));

        var tagged = spans.Where(s => s.Kind == System.Diagnostics.ActivityKind.Server && (s.GetTagItem(Gatekeeper.Security.CallerAuthorizer.CallerAttribute) as string) == Limited).ToList();
        Assert.Equal(2, tagged.Count);
    }

    [Fact]
    public async Task Decide_TrustedClientCertificate_AuditedUnderItsSanUri()
    {
        using var client = _server.CreateClient(_pki, _admin);

        var answer = await client.DecideAsync(Cpis("mtls-ok"));

        var records = await client.QueryAllAsync(new QueryAuditRequest { DecisionId = answer.DecisionId });
        Assert.Equal(CaseManagement, Assert.Single(records).Caller);
    }

    [Fact]
    public async Task Decide_CallerOutsideItsCategories_PermissionDeniedAndRefusalAudited()
    {
        using var limited = _server.CreateClient(_pki, _limited);
        using var admin = _server.CreateClient(_pki, _admin);
        Assert.Equal(Decision.AllowWithConditions, (await limited.DecideAsync(Cpis("within"))).Decision);

        var error = await Assert.ThrowsAsync<RpcException>(() => limited.DecideAsync(new DecideRequest
        {
            Category = "case_record",
            Recipient = "police",
            Purpose = "crime_prevention",
            RequestId = "outside-entitlement",
        }));

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Contains(Limited, error.Detail, StringComparison.Ordinal);
        var refusals = await admin.QueryAllAsync(new QueryAuditRequest { Category = "case_record" });
        var refusal = Assert.Single(refusals, r => r.RequestId == "outside-entitlement");
        Assert.Equal(Limited, refusal.Caller);
        Assert.Equal(Decision.Deny, refusal.Decision);
        Assert.Equal("caller_not_entitled", refusal.RuleId);
        Assert.Contains(refusal.DecisionId, error.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DecideBatch_OneQuestionOutsideEntitlement_WholeBatchRefusedAndOnlyThatQuestionAudited()
    {
        using var limited = _server.CreateClient(_pki, _limited);
        using var admin = _server.CreateClient(_pki, _admin);
        var batch = new DecideBatchRequest { Requests = { Cpis("batch-ok"), new DecideRequest { Category = "cpis_flag", Recipient = "nhs_cpis", Purpose = "research", RequestId = "batch-refused" } } };

        var error = await Assert.ThrowsAsync<RpcException>(() => limited.UnaryCallAsync("/gatekeeper.v1.Gatekeeper/DecideBatch", batch, DecideBatchResponse.Parser));

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        var records = await admin.QueryAllAsync(new QueryAuditRequest { Category = "cpis_flag" });
        Assert.Contains(records, r => r.RequestId == "batch-refused" && r.RuleId == "caller_not_entitled" && r.Caller == Limited);
        Assert.DoesNotContain(records, r => r.RequestId == "batch-ok");
    }

    [Fact]
    public async Task Decide_TrustedCertificateNotListedInPolicy_PermissionDeniedAsUnknownCaller()
    {
        var unlisted = _pki.IssueClient("unlisted", dns: "Unlisted.Council.Test");
        using var client = _server.CreateClient(_pki, unlisted);
        using var admin = _server.CreateClient(_pki, _admin);

        var error = await Assert.ThrowsAsync<RpcException>(() => client.DecideAsync(Cpis("unlisted")));

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        var records = await admin.QueryAllAsync(new QueryAuditRequest { Category = "cpis_flag" });
        var refusal = Assert.Single(records, r => r.RequestId == "unlisted");
        Assert.Equal("unlisted.council.test", refusal.Caller);
        Assert.Equal("caller_unknown", refusal.RuleId);
    }

    [Fact]
    public async Task AdminApi_CallerWithoutAdminRight_PermissionDeniedAndAudited()
    {
        using var limited = _server.CreateClient(_pki, _limited);
        using var admin = _server.CreateClient(_pki, _admin);

        var query = await Assert.ThrowsAsync<RpcException>(() => limited.QueryAuditAsync(new QueryAuditRequest()));
        var reload = await Assert.ThrowsAsync<RpcException>(() => limited.ReloadPolicyAsync());

        Assert.Equal(StatusCode.PermissionDenied, query.StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, reload.StatusCode);
        var records = await admin.QueryAllAsync(new QueryAuditRequest());
        Assert.Contains(records, r => r.Caller == Limited && r.RuleId == "caller_not_entitled" && r.ContextJson.Contains("/gatekeeper.v1.Admin/QueryAudit", StringComparison.Ordinal));
        Assert.Contains(records, r => r.Caller == Limited && r.RuleId == "caller_not_entitled" && r.ContextJson.Contains("/gatekeeper.v1.Admin/ReloadPolicy", StringComparison.Ordinal));
        Assert.Equal(_server.App.Services.GetService(typeof(Policy.PolicyProvider)) is Policy.PolicyProvider p ? p.Current.Version : "", (await admin.ReloadPolicyAsync()).Version);
    }
}
