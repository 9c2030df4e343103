using System.Runtime.CompilerServices;
using Gatekeeper.Audit;
using Gatekeeper.Policy;
using Gatekeeper.V1;

namespace Gatekeeper.Decisions;

/// <summary>
/// The decision path after validation, top to bottom: read the policy in force once, evaluate, and
/// build the answer with its own decision id.
/// </summary>
public sealed class DecisionPipeline(PolicyProvider policies, TimeProvider time)
{
    private static readonly ConditionalWeakTable<PolicyOutcome, V1.LawfulBasis> LawfulBases = new();

    /// <summary>Answers one validated request.</summary>
    public ValueTask<DecideResponse> DecideAsync(DecideRequest request, string caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var policy = policies.Current;
        return ValueTask.FromResult(Decide(policy, request));
    }

    /// <summary>Answers a validated batch, in order, all on the same policy version.</summary>
    public ValueTask<DecideBatchResponse> DecideBatchAsync(DecideBatchRequest batch, string caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var policy = policies.Current;
        var response = new DecideBatchResponse();
        foreach (var request in batch.Requests)
        {
            response.Responses.Add(Decide(policy, request));
        }

        return ValueTask.FromResult(response);
    }

    private DecideResponse Decide(CompiledPolicy policy, DecideRequest request)
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

        return response;
    }

    /// <summary>The policy's view of a request: wire enums mapped, the country upper-cased.</summary>
    internal static PolicyQuery ToQuery(DecideRequest request)
    {
        var context = request.Context;
        if (context is null)
        {
            return new PolicyQuery(request.Category, request.Recipient, request.Purpose);
        }

        var country = context.DestinationCountry;
        if (country.Length != 0 && (char.IsAsciiLetterLower(country[0]) || char.IsAsciiLetterLower(country[1])))
        {
            country = country.ToUpperInvariant();
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
            country,
            context.SubjectRequest,
            context.HasSubjectIsMinor ? context.SubjectIsMinor : null);
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
