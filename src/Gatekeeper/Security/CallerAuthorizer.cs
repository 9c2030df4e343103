using System.Diagnostics;
using Gatekeeper.Audit;
using Gatekeeper.Decisions;
using Gatekeeper.Policy;
using Gatekeeper.Protocol;
using Gatekeeper.Telemetry;
using Gatekeeper.Transport;
using Gatekeeper.V1;
using Microsoft.Extensions.Logging;
using AuditRecord = Gatekeeper.Audit.AuditRecord;

namespace Gatekeeper.Security;

/// <summary>
/// Applies the policy's <c>callers</c> section to each call. An entitled call costs two frozen-set lookups and
/// allocates nothing. A refused call is an answer too, so it keeps the service's promise "no answer without its
/// record": each refused question is appended to the audit log as a deny (rule <see cref="CallerNotEntitled"/>
/// or <see cref="CallerUnknown"/>, with the caller, the question and the policy version) and the caller gets
/// PERMISSION_DENIED only once that record is durable, or UNAVAILABLE when it cannot be written.
/// </summary>
public sealed class CallerAuthorizer
{
    /// <summary>Rule id of an audited refusal: the caller is listed but the question is outside its entitlement.</summary>
    public const string CallerNotEntitled = "caller_not_entitled";

    /// <summary>Rule id of an audited refusal: the policy does not list the caller.</summary>
    public const string CallerUnknown = "caller_unknown";

    /// <summary>Server span attribute naming the caller (an identity, never personal data).</summary>
    public const string CallerAttribute = "gatekeeper.caller";

    private readonly PolicyProvider _policies;
    private readonly AuditLog? _audit;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <summary>Creates the authorizer; <paramref name="audit"/> is null only when the audit log is switched off (benchmarks).</summary>
    public CallerAuthorizer(PolicyProvider policies, AuditLog? audit, TimeProvider time, ILogger<CallerAuthorizer> logger)
    {
        ArgumentNullException.ThrowIfNull(policies);
        _policies = policies;
        _audit = audit;
        _time = time;
        _logger = logger;
    }

    /// <summary>True when <paramref name="caller"/> may ask this question; also names the caller on the server span.</summary>
    public bool MayDecide(string caller, DecideRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        Tag(caller);
        return _policies.Current.Callers.TryGet(caller, out var entitlement) && entitlement.MayAsk(request.Category, request.Purpose);
    }

    /// <summary>True when <paramref name="caller"/> may ask every question of the batch.</summary>
    public bool MayDecide(string caller, DecideBatchRequest batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        Tag(caller);
        if (!_policies.Current.Callers.TryGet(caller, out var entitlement))
        {
            return false;
        }

        var requests = batch.Requests;
        for (int i = 0; i < requests.Count; i++)
        {
            if (!entitlement.MayAsk(requests[i].Category, requests[i].Purpose))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Records the refusal of every question of <paramref name="requests"/> the caller may not ask (a batch is
    /// refused whole, and only its refused questions are recorded: the others got no answer) and throws
    /// PERMISSION_DENIED once the records are durable.
    /// </summary>
    public async ValueTask<T> RefuseAsync<T>(string caller, IReadOnlyList<DecideRequest> requests, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(requests);
        ArgumentNullException.ThrowIfNull(context);
        var policy = _policies.Current;
        bool known = policy.Callers.TryGet(caller, out var entitlement);
        var records = new List<AuditRecord>();
        DecideRequest? first = null;
        foreach (var request in requests)
        {
            if (known && entitlement!.MayAsk(request.Category, request.Purpose))
            {
                continue;
            }

            first ??= request;
            var reason = known
                ? $"Caller '{caller}' may not ask about category '{request.Category}' for purpose '{request.Purpose}' under the policy's callers section."
                : $"Caller '{caller}' is not listed in the policy's callers section, so it may not ask anything.";
            records.Add(Record(caller, request.Category, request.Recipient, request.Purpose, DecisionPipeline.ContextJson(request.Context), request.RequestId, request.SubjectRef, known ? CallerNotEntitled : CallerUnknown, reason, policy.Version));
        }

        if (first is null)
        {
            // Entitled after all: the policy changed between the check and now. Refuse rather than answer
            // without the pipeline; the caller retries and gets the new version's answer.
            throw new RpcException(StatusCode.Unavailable, "The policy changed during the call; retry.");
        }

        await AppendAsync(records, context.CancellationToken);
        var id = records[0].DecisionId;
        if (known)
        {
            SecurityLog.NotEntitled(_logger, caller, first.Category, first.Purpose, id);
            throw new RpcException(StatusCode.PermissionDenied, $"caller '{caller}' may not ask about category '{first.Category}' for purpose '{first.Purpose}' (refusal recorded as decision {id})");
        }

        SecurityLog.Unknown(_logger, caller, context.Method, id);
        throw new RpcException(StatusCode.PermissionDenied, $"caller '{caller}' is not listed in the policy's callers (refusal recorded as decision {id})");
    }

    /// <summary>
    /// Completes when the caller holds the admin right (<see cref="CallerPolicy.QueryAudit"/> or
    /// <see cref="CallerPolicy.ReloadPolicy"/>); otherwise records the refusal and throws PERMISSION_DENIED.
    /// </summary>
    public ValueTask AuthorizeAdminAsync(string caller, string right, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Tag(caller);
        var policy = _policies.Current;
        bool known = policy.Callers.TryGet(caller, out var entitlement);
        bool allowed = known && right switch
        {
            CallerPolicy.QueryAudit => entitlement!.MayQueryAudit,
            CallerPolicy.ReloadPolicy => entitlement!.MayReloadPolicy,
            _ => false,
        };
        return allowed ? default : RefuseAdminAsync(caller, known, context.Method, policy.Version, context.CancellationToken);
    }

    private async ValueTask RefuseAdminAsync(string caller, bool known, string method, string version, CancellationToken cancellationToken)
    {
        // No category, recipient or purpose: the method goes in the context so that the record says what was tried.
        var record = Record(caller, "", "", "", $"{{\"method\":\"{method}\"}}", "", "", known ? CallerNotEntitled : CallerUnknown, $"Caller '{caller}' may not call {method} under the policy's callers section.", version);
        await AppendAsync([record], cancellationToken);
        SecurityLog.AdminNotEntitled(_logger, caller, method, record.DecisionId);
        throw new RpcException(StatusCode.PermissionDenied, $"caller '{caller}' may not call {method} (refusal recorded as decision {record.DecisionId})");
    }

    private AuditRecord Record(string caller, string category, string recipient, string purpose, string context, string requestId, string subjectRef, string ruleId, string reason, string version) => new()
    {
        DecisionId = DecisionIds.New(_time),
        Time = _time.GetUtcNow(),
        Caller = caller,
        RequestId = requestId,
        Category = category,
        Recipient = recipient,
        Purpose = purpose,
        Context = context,
        Decision = AuditDecisions.Deny,
        RuleId = ruleId,
        PolicyVersion = version,
        Reason = reason,
        FromCache = AuditCacheResults.Miss,
        TraceId = Activity.Current?.TraceId.ToHexString() ?? "",
        SubjectRef = subjectRef,
    };

    private async ValueTask AppendAsync(List<AuditRecord> records, CancellationToken cancellationToken)
    {
        if (_audit is null)
        {
            return;
        }

        try
        {
            await _audit.AppendManyAsync(records, cancellationToken);
        }
        catch (AuditUnavailableException)
        {
            throw new RpcException(StatusCode.Unavailable, "The refusal could not be recorded, so no answer was given. Retry later.");
        }
    }

    private static void Tag(string caller) => DecisionTelemetry.RecordedServerSpan()?.SetTag(CallerAttribute, caller);
}
