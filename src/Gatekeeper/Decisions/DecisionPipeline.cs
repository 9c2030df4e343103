using Gatekeeper.V1;

namespace Gatekeeper.Decisions;

/// <summary>
/// The decision path after validation: evaluate, then build the answer. Until the policy engine is wired
/// in, a small fixed rule table answers.
/// </summary>
public sealed class DecisionPipeline
{
    private const string FixedPolicyVersion = "builtin-fixed-0";

    /// <summary>Answers one validated request.</summary>
    public ValueTask<DecideResponse> DecideAsync(DecideRequest request, string caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return ValueTask.FromResult(Evaluate(request));
    }

    /// <summary>Answers a validated batch, in order.</summary>
    public ValueTask<DecideBatchResponse> DecideBatchAsync(DecideBatchRequest batch, string caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var response = new DecideBatchResponse();
        foreach (var request in batch.Requests)
        {
            response.Responses.Add(Evaluate(request));
        }

        return ValueTask.FromResult(response);
    }

    private static DecideResponse Evaluate(DecideRequest request)
    {
        var response = new DecideResponse
        {
            DecisionId = Guid.CreateVersion7().ToString("N"),
            PolicyVersion = FixedPolicyVersion,
            RequestId = request.RequestId,
        };
        if (request is { Category: "health_disability", Recipient: "gp_surgery", Purpose: "social_care" })
        {
            response.Decision = Decision.AllowWithConditions;
            response.RuleId = "health_social_care_to_gp";
            response.Reason = "Health and social care professionals may share to provide social care.";
            response.LawfulBasis = new LawfulBasis { Article6 = "6(1)(e)", Article9 = "9(2)(h)" };
            response.Obligations.Add("need_to_know");
        }
        else
        {
            response.Decision = Decision.Deny;
            response.RuleId = "no_matching_rule";
            response.Reason = "No rule allows this disclosure.";
        }

        return response;
    }
}
