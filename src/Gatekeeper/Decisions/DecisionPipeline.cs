using System.Runtime.CompilerServices;
using System.Text;
using Gatekeeper.Audit;
using Gatekeeper.Policy;
using Gatekeeper.Protocol;
using Gatekeeper.Transport;
using Gatekeeper.V1;

namespace Gatekeeper.Decisions;

/// <summary>
/// The decision path after validation, top to bottom: read the policy in force once, evaluate, record the
/// answer in the audit log and wait until it is durable, answer. If the record cannot be made durable the
/// caller gets UNAVAILABLE: no answer leaves without its record.
/// </summary>
public sealed class DecisionPipeline(PolicyProvider policies, AuditLog? audit, TimeProvider time)
{
    private static readonly ConditionalWeakTable<PolicyOutcome, V1.LawfulBasis> LawfulBases = new();
    private static readonly ConditionalWeakTable<PolicyOutcome, AuditLawfulBasis> AuditBases = new();

    /// <summary>Answers one validated request once its audit record is durable.</summary>
    public async ValueTask<DecideResponse> DecideAsync(DecideRequest request, string caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var policy = policies.Current;
        var (response, outcome) = Decide(policy, request);
        if (audit is not null)
        {
            await AppendAsync(audit.AppendAsync(ToRecord(request, response, outcome, caller), cancellationToken));
        }

        return response;
    }

    /// <summary>Answers a validated batch, in order, all on the same policy version; all records commit together.</summary>
    public async ValueTask<DecideBatchResponse> DecideBatchAsync(DecideBatchRequest batch, string caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var policy = policies.Current;
        var response = new DecideBatchResponse();
        var records = audit is null ? null : new AuditRecord[batch.Requests.Count];
        for (var i = 0; i < batch.Requests.Count; i++)
        {
            var request = batch.Requests[i];
            var (answer, outcome) = Decide(policy, request);
            response.Responses.Add(answer);
            if (records is not null)
            {
                records[i] = ToRecord(request, answer, outcome, caller);
            }
        }

        if (audit is not null)
        {
            await AppendAsync(audit.AppendManyAsync(records!, cancellationToken));
        }

        return response;
    }

    private static async ValueTask AppendAsync(ValueTask append)
    {
        try
        {
            await append;
        }
        catch (AuditUnavailableException ex)
        {
            throw new RpcException(StatusCode.Unavailable, ex.Reason switch
            {
                AuditUnavailableReason.QueueFull => "The decision log is saturated; the decision was not given. Retry with backoff.",
                AuditUnavailableReason.ShuttingDown => "The server is shutting down; the decision was not given. Retry on another instance.",
                _ => "The decision could not be recorded, so it was not given. Retry later.",
            });
        }
    }

    private (DecideResponse Response, PolicyOutcome Outcome) Decide(CompiledPolicy policy, DecideRequest request)
    {
        var query = ToQuery(request);
        List<string>? explanation = null;
        PolicyOutcome outcome;
        if (request.Explain)
        {
            explanation = [];
            outcome = policy.Explain(query, explanation);
        }
        else
        {
            outcome = policy.Evaluate(query);
        }

        var response = new DecideResponse
        {
            Decision = ToDecision(outcome.Effect),
            DecisionId = DecisionIds.New(time),
            PolicyVersion = policy.Version,
            RuleId = outcome.RuleId,
            LawfulBasis = LawfulBasisOf(outcome),
            Reason = outcome.Reason,
            RequestId = request.RequestId,
        };
        response.Obligations.AddRange(outcome.Obligations);
        if (explanation is not null)
        {
            response.Explanation.AddRange(explanation);
        }

        return (response, outcome);
    }

    /// <summary>The policy's view of a request: wire enums mapped, the country upper-cased.</summary>
    internal static PolicyQuery ToQuery(DecideRequest request)
    {
        var context = request.Context;
        if (context is null)
        {
            return new PolicyQuery(request.Category, request.Recipient, request.Purpose);
        }

        return new PolicyQuery(
            request.Category,
            request.Recipient,
            request.Purpose,
            context.Form switch
            {
                V1.DataForm.Pseudonymised => Policy.DataForm.Pseudonymised,
                V1.DataForm.Anonymised => Policy.DataForm.Anonymised,
                _ => Policy.DataForm.Identifiable, // unspecified means identifiable: the safe reading
            },
            (Policy.Consent)context.Consent,
            context.SubjectStatuses,
            Country(context),
            context.SubjectRequest,
            context.HasSubjectIsMinor ? context.SubjectIsMinor : null);
    }

    private static string Country(DecisionContext context)
    {
        var country = context.DestinationCountry;
        return country.Length != 0 && (char.IsAsciiLetterLower(country[0]) || char.IsAsciiLetterLower(country[1]))
            ? country.ToUpperInvariant()
            : country;
    }

    private AuditRecord ToRecord(DecideRequest request, DecideResponse response, PolicyOutcome outcome, string caller) => new()
    {
        DecisionId = response.DecisionId,
        Time = time.GetUtcNow(),
        Caller = caller,
        RequestId = request.RequestId,
        Category = request.Category,
        Recipient = request.Recipient,
        Purpose = request.Purpose,
        Context = ContextJson(request.Context),
        Decision = response.Decision switch
        {
            Decision.Allow => AuditDecisions.Allow,
            Decision.AllowWithConditions => AuditDecisions.AllowWithConditions,
            _ => AuditDecisions.Deny,
        },
        RuleId = outcome.RuleId,
        PolicyVersion = response.PolicyVersion,
        LawfulBasis = AuditBases.GetValue(outcome, static o => new AuditLawfulBasis(o.LawfulBasis.Article6, o.LawfulBasis.Article9, o.LawfulBasis.Article10, o.LawfulBasis.Legislation)),
        Obligations = outcome.Obligations,
        Reason = outcome.Reason,
        SubjectRef = request.SubjectRef,
    };

    /// <summary>
    /// The context as the caller stated it, with defaults spelled out (so that "not stated" and "stated as the
    /// default" read the same in the log): compact JSON, keys in ordinal order. Ids and country are validated,
    /// so nothing here needs escaping.
    /// </summary>
    internal static string ContextJson(DecisionContext? context)
    {
        var sb = new StringBuilder(160);
        sb.Append("{\"consent\":\"").Append(context?.Consent switch
        {
            V1.Consent.Given => "given",
            V1.Consent.Refused => "refused",
            V1.Consent.Withdrawn => "withdrawn",
            _ => "unknown",
        });
        sb.Append("\",\"destination_country\":\"").Append(context is null ? string.Empty : Country(context));
        sb.Append("\",\"form\":\"").Append(context?.Form switch
        {
            V1.DataForm.Pseudonymised => "pseudonymised",
            V1.DataForm.Anonymised => "anonymised",
            _ => "identifiable",
        });
        sb.Append("\",\"subject_is_minor\":").Append(context is { HasSubjectIsMinor: true } ? (context.SubjectIsMinor ? "true" : "false") : "null");
        sb.Append(",\"subject_request\":").Append(context is { SubjectRequest: true } ? "true" : "false");
        sb.Append(",\"subject_statuses\":[");
        if (context is not null)
        {
            for (var i = 0; i < context.SubjectStatuses.Count; i++)
            {
                sb.Append(i == 0 ? "\"" : ",\"").Append(context.SubjectStatuses[i]).Append('"');
            }
        }

        return sb.Append("]}").ToString();
    }

    private static Decision ToDecision(PolicyEffect effect) => effect switch
    {
        PolicyEffect.Allow => Decision.Allow,
        PolicyEffect.AllowWithConditions => Decision.AllowWithConditions,
        _ => Decision.Deny,
    };

    // Outcomes are immutable and live as long as their policy; their wire form is built once and shared
    // by every answer (responses are only serialised, never changed).
    private static V1.LawfulBasis? LawfulBasisOf(PolicyOutcome outcome)
    {
        var basis = outcome.LawfulBasis;
        if (basis.Article6.Length == 0 && basis.Article9.Length == 0 && basis.Article10.Length == 0 && basis.Legislation.Count == 0)
        {
            return null;
        }

        return LawfulBases.GetValue(outcome, static o => new V1.LawfulBasis
        {
            Article6 = o.LawfulBasis.Article6,
            Article9 = o.LawfulBasis.Article9,
            Article10 = o.LawfulBasis.Article10,
            Legislation = { o.LawfulBasis.Legislation },
        });
    }
}
