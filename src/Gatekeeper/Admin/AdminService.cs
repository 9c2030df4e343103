using Gatekeeper.Audit;
using Gatekeeper.Hosting;
using Gatekeeper.Policy;
using Gatekeeper.Protocol;
using Gatekeeper.Security;
using Gatekeeper.Transport;
using Gatekeeper.V1;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gatekeeper.Admin;

/// <summary>
/// The gatekeeper.v1.Admin gRPC service, for operators and dashboards: search the decision log while the
/// service writes it, and force a policy reload. Each method needs its admin right in the policy's callers
/// section (query_audit, reload_policy); a caller without it gets an audited PERMISSION_DENIED.
/// </summary>
public sealed class AdminService
{
    /// <summary>The service name on the wire.</summary>
    public const string ServiceName = "gatekeeper.v1.Admin";

    private readonly PolicyProvider _policies;
    private readonly CallerAuthorizer _authorizer;
    private readonly AuditOptions _auditOptions;
    private readonly ILogger<AdminService> _logger;

    /// <summary>Creates the service; the audit settings are bound exactly as the service's own log binds them.</summary>
    public AdminService(PolicyProvider policies, CallerAuthorizer authorizer, IConfiguration configuration, IOptions<GatekeeperOptions> options, ILogger<AdminService> logger)
    {
        ArgumentNullException.ThrowIfNull(policies);
        ArgumentNullException.ThrowIfNull(authorizer);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        _policies = policies;
        _authorizer = authorizer;
        _logger = logger;
        // Same directory and key settings as the writer (Gatekeeper:DataDirectory, Gatekeeper:Audit:*), so the
        // query reads the very log the service appends to and hashes subject references with the same key.
        var audit = new AuditOptions();
        configuration.GetSection(GatekeeperApp.AuditSection).Bind(audit);
        audit.DataDirectory = options.Value.DataDirectory;
        _auditOptions = audit;
    }

    /// <summary>The methods to register with the gRPC endpoint.</summary>
    public IEnumerable<ServerMethod> Methods()
    {
        yield return ServerMethod.Unary<QueryAuditRequest, QueryAuditResponse>(ServiceName, "QueryAudit", QueryAuditRequest.Parser, QueryAudit);
        yield return ServerMethod.Unary<ReloadPolicyRequest, ReloadPolicyResponse>(ServiceName, "ReloadPolicy", ReloadPolicyRequest.Parser, ReloadPolicy);
    }

    /// <summary>One page of matching records, oldest first; INVALID_ARGUMENT for a bad filter or token, UNAVAILABLE when the store cannot be read.</summary>
    public async ValueTask<QueryAuditResponse> QueryAudit(QueryAuditRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var caller = context.Caller;
        await _authorizer.AuthorizeAdminAsync(caller, CallerPolicy.QueryAudit, context);
        var filter = AuditQueryMapping.ToFilter(request);
        var pageSize = AuditQueryMapping.PageSize(request.PageSize);
        if (filter.Subject is not null && _auditOptions.SubjectHmacKey is null && !File.Exists(_auditOptions.KeyFilePath))
        {
            // Without the key no stored HMAC can match: an empty page would falsely say "never decided about them".
            throw new RpcException(StatusCode.FailedPrecondition, "subject_ref: searching by subject needs the audit key, and the service has none yet.");
        }

        AuditPage page;
        try
        {
            // A new AuditQuery per call re-reads the key file: it may not have existed when this service was built,
            // and a per-call read-only snapshot is what lets the query run beside the writer anyway.
            page = new AuditQuery(_auditOptions).Query(filter, pageSize, request.PageToken);
        }
        catch (ArgumentException ex) when (ex.ParamName == "pageToken")
        {
            throw new RpcException(StatusCode.InvalidArgument, "page_token: not a token this service returned; start again with an empty page_token.");
        }
        catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException or InvalidOperationException or FormatException)
        {
            // Missing, locked, corrupt or unreadable store: an outage of the log, not a bad request. The detail
            // (paths, SQLite codes) goes to the server log, not to the caller.
            AdminLog.AuditQueryFailed(_logger, caller, ex);
            throw new RpcException(StatusCode.Unavailable, "The audit log cannot be read right now. Retry later.");
        }

        var response = new QueryAuditResponse { NextPageToken = page.NextPageToken ?? "" };
        foreach (var entry in page.Entries)
        {
            response.Records.Add(AuditQueryMapping.ToRecord(entry));
        }

        AdminLog.AuditQueried(_logger, caller, AuditQueryMapping.Describe(request), response.Records.Count, page.NextPageToken is not null);
        return response;
    }

    /// <summary>
    /// Re-reads the policy files now. OK in every case: the answer says which version is in force, whether it
    /// changed, and, when the files are invalid, every error (the version in force keeps serving).
    /// </summary>
    public async ValueTask<ReloadPolicyResponse> ReloadPolicy(ReloadPolicyRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var caller = context.Caller;
        await _authorizer.AuthorizeAdminAsync(caller, CallerPolicy.ReloadPolicy, context);
        var previous = _policies.Current.Version;
        var result = _policies.Reload();
        var current = _policies.Current.Version;
        var response = new ReloadPolicyResponse
        {
            Version = current,
            PreviousVersion = previous,
            // Compared with what served before the call, so a watcher reload racing this call still counts.
            Changed = !string.Equals(previous, current, StringComparison.Ordinal),
        };
        foreach (var error in result.Errors)
        {
            response.Errors.Add(error.ToString());
        }

        AdminLog.PolicyReloadRequested(_logger, caller, previous, current, response.Changed, response.Errors.Count);
        return response;
    }
}
