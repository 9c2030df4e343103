using Gatekeeper.Client;
using Gatekeeper.V1;

namespace Gatekeeper.FunctionalTests.Admin;

/// <summary>The admin methods through the generic unary call of Gatekeeper.Client (the typed client has no admin surface yet).</summary>
internal static class AdminCalls
{
    public const string QueryAuditPath = "/gatekeeper.v1.Admin/QueryAudit";
    public const string ReloadPolicyPath = "/gatekeeper.v1.Admin/ReloadPolicy";

    public static async Task<QueryAuditResponse> QueryAuditAsync(this GatekeeperClient client, QueryAuditRequest request) =>
        (await client.UnaryCallAsync(QueryAuditPath, request, QueryAuditResponse.Parser)).Response;

    public static async Task<ReloadPolicyResponse> ReloadPolicyAsync(this GatekeeperClient client) =>
        (await client.UnaryCallAsync(ReloadPolicyPath, new ReloadPolicyRequest(), ReloadPolicyResponse.Parser)).Response;

    /// <summary>Every page of a query, following next_page_token, bounded so that a token loop fails the test instead of hanging it.</summary>
    public static async Task<List<AuditLogEntry>> QueryAllAsync(this GatekeeperClient client, QueryAuditRequest request, int maxPages = 1_000)
    {
        var all = new List<AuditLogEntry>();
        var page = request.Clone();
        for (var i = 0; i < maxPages; i++)
        {
            var response = await client.QueryAuditAsync(page);
            all.AddRange(response.Records);
            if (response.NextPageToken.Length == 0)
            {
                return all;
            }

            page.PageToken = response.NextPageToken;
        }

        throw new InvalidOperationException($"QueryAudit still had pages after {maxPages}.");
    }
}
