using System.Runtime.CompilerServices;
using System.Text;
using Gatekeeper.Audit;
using Gatekeeper.Caching;
using Gatekeeper.Policy;
using Gatekeeper.Protocol;
using Gatekeeper.Telemetry;
using Gatekeeper.Transport;
using Gatekeeper.V1;
using AuditRecord = Gatekeeper.Audit.AuditRecord;

namespace Gatekeeper.Decisions;

/// <summary>
/// The decision path after validation, top to bottom: read the policy in force once; find the decision in
/// the in-process cache, then in Redis, else evaluate the policy; build the answer with its own decision id;
/// record it in the audit log and wait until it is durable; answer. A cache hit is still a separate answer
/// with its own id and record. If the record cannot be made durable the caller gets UNAVAILABLE: no answer
/// leaves without its record. Telemetry: the decision's attributes go on the call's server span, the audit wait
/// is a child span, and counters and timings are recorded only while a listener is attached.
/// </summary>
public sealed class DecisionPipeline
{
    private static readonly ConditionalWeakTable<PolicyOutcome, V1.LawfulBasis> LawfulBases = new();
    private static readonly ConditionalWeakTable<PolicyOutcome, AuditLawfulBasis> AuditBases = new();
    private readonly PolicyProvider _policies;
    private readonly L1DecisionCache _l1;
    private readonly L2DecisionCache? _l2;
    private readonly AuditLog? _audit;
    private readonly TimeProvider _time;

    /// <summary>Creates the pipeline; <paramref name="l2"/> is null without Redis, <paramref name="audit"/> only for benchmarks.</summary>
    public DecisionPipeline(PolicyProvider policies, L1DecisionCache l1, L2DecisionCache? l2, AuditLog? audit, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(policies);
        _policies = policies;
        _l1 = l1;
        _l2 = l2;
        _audit = audit;
        _time = time;
        // Keys carry the version, so this only frees memory the old version's decisions held.
        policies.VersionChanged += (_, _) => l1.Clear();
    }

    /// <summary>Answers one validated request once its audit record is durable.</summary>
    public async ValueTask<DecideResponse> DecideAsync(DecideRequest request, string caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        // Taken before any await: a Redis child span becomes Activity.Current while it runs.
        var span = DecisionTelemetry.RecordedServerSpan();
        var policy = _policies.Current;
        var lookup = await LookupAsync(policy, request, cancellationToken);
        var response = Answer(policy, request, lookup);
        var decision = DecisionName(response.Decision);
        DecisionTelemetry.CountDecision(lookup.Outcome, decision, policy.Version);
        if (span is not null)
        {
            DecisionTelemetry.TagDecision(span, decision, request.Category, request.Recipient, request.Purpose, response.RuleId, policy.Version, lookup.Tier, response.DecisionId);
        }

        if (_audit is not null)
        {
            var append = _audit.AppendAsync(ToRecord(request, response, lookup, caller), cancellationToken);
            await AppendAsync(DecisionTelemetry.CommitObserved ? DecisionTelemetry.TraceCommitAsync(append, 1) : append);
        }

        return response;
    }

    /// <summary>Answers a validated batch, in order, all on the same policy version; all records commit together.</summary>
    public async ValueTask<DecideBatchResponse> DecideBatchAsync(DecideBatchRequest batch, string caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var span = DecisionTelemetry.RecordedServerSpan();
        var policy = _policies.Current;
        var response = new DecideBatchResponse();
        var records = _audit is null ? null : new AuditRecord[batch.Requests.Count];
        for (var i = 0; i < batch.Requests.Count; i++)
        {
            var request = batch.Requests[i];
            var lookup = await LookupAsync(policy, request, cancellationToken);
            var answer = Answer(policy, request, lookup);
            response.Responses.Add(answer);
            DecisionTelemetry.CountDecision(lookup.Outcome, DecisionName(answer.Decision), policy.Version);
            if (records is not null)
            {
                records[i] = ToRecord(request, answer, lookup, caller);
            }
        }

        if (span is not null)
        {
            DecisionTelemetry.TagBatch(span, batch.Requests.Count, policy.Version);
        }

        if (_audit is not null)
        {
            var append = _audit.AppendManyAsync(records!, cancellationToken);
            await AppendAsync(DecisionTelemetry.CommitObserved ? DecisionTelemetry.TraceCommitAsync(append, records!.Length) : append);
        }

        return response;
    }

    private ValueTask<Lookup> LookupAsync(CompiledPolicy policy, DecideRequest request, CancellationToken cancellationToken)
    {
        var query = ToQuery(request);
        if (request.Explain)
        {
            // The trace is computed, never cached.
            var explanation = new List<string>();
            var explained = policy.Explain(query, explanation);
            return new(new Lookup(explained, AuditCacheResults.Miss, explanation));
        }

        var key = DecisionKey.For(policy.Version, query);
        if (_l1.TryGet(key, out var cached))
        {
            GatekeeperMetrics.CacheLookups.Add(1, GatekeeperMetrics.TierL1);
            return new(new Lookup(cached, AuditCacheResults.L1, null));
        }

        return _l2 is null ? new(Evaluate(policy, query, key)) : LookupL2Async(policy, query, key, cancellationToken);
    }

    private async ValueTask<Lookup> LookupL2Async(CompiledPolicy policy, PolicyQuery query, DecisionKey key, CancellationToken cancellationToken)
    {
        var shared = await _l2!.TryGetAsync(key, policy, cancellationToken);
        if (shared is not null)
        {
            GatekeeperMetrics.CacheLookups.Add(1, GatekeeperMetrics.TierL2);
            _l1.Set(key, shared);
            return new Lookup(shared, AuditCacheResults.L2, null);
        }

        var lookup = Evaluate(policy, query, key);
        _l2.SetInBackground(key, lookup.Outcome);
        return lookup;
    }

    private Lookup Evaluate(CompiledPolicy policy, in PolicyQuery query, in DecisionKey key)
    {
        var started = DecisionTelemetry.StartEvaluation();
        var outcome = policy.Evaluate(query);
        DecisionTelemetry.EndEvaluation(started);
        GatekeeperMetrics.CacheLookups.Add(1, GatekeeperMetrics.TierMiss);
        _l1.Set(key, outcome);
        return new Lookup(outcome, AuditCacheResults.Miss, null);
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

    private DecideResponse Answer(CompiledPolicy policy, DecideRequest request, in Lookup lookup)
    {
        var outcome = lookup.Outcome;
        var response = new DecideResponse
        {
            Decision = ToDecision(outcome.Effect),
            DecisionId = DecisionIds.New(_time),
            PolicyVersion = policy.Version,
            RuleId = outcome.RuleId,
            LawfulBasis = LawfulBasisOf(outcome),
            Reason = outcome.Reason,
            RequestId = request.RequestId,
        };
        response.Obligations.AddRange(outcome.Obligations);
        if (lookup.Explanation is not null)
        {
            response.Explanation.AddRange(lookup.Explanation);
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

    private AuditRecord ToRecord(DecideRequest request, DecideResponse response, in Lookup lookup, string caller) => new()
    {
        DecisionId = response.DecisionId,
        Time = _time.GetUtcNow(),
        Caller = caller,
        RequestId = request.RequestId,
        Category = request.Category,
        Recipient = request.Recipient,
        Purpose = request.Purpose,
        Context = ContextJson(request.Context),
        Decision = DecisionName(response.Decision),
        RuleId = lookup.Outcome.RuleId,
        PolicyVersion = response.PolicyVersion,
        LawfulBasis = AuditBases.GetValue(lookup.Outcome, static o => new AuditLawfulBasis(o.LawfulBasis.Article6, o.LawfulBasis.Article9, o.LawfulBasis.Article10, o.LawfulBasis.Legislation)),
        Obligations = lookup.Outcome.Obligations,
        Reason = lookup.Outcome.Reason,
        FromCache = lookup.Tier,
        SubjectRef = request.SubjectRef,
    };

    [ThreadStatic]
    private static StringBuilder? t_contextBuilder;

    /// <summary>
    /// The context as the caller stated it, with defaults spelled out (so that "not stated" and "stated as the
    /// default" read the same in the log): compact JSON, keys in ordinal order. Ids and country are validated,
    /// so nothing here needs escaping.
    /// </summary>
    internal static string ContextJson(DecisionContext? context)
    {
        // One builder per thread: a new one per record was ~12% of the bytes the service allocated under the
        // realistic load mix (its char[] and the builder itself), and every byte is paid for again in gen0 GCs.
        var sb = t_contextBuilder ??= new StringBuilder(256);
        sb.Clear();
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

    /// <summary>The decision as the audit log and telemetry name it.</summary>
    private static string DecisionName(Decision decision) => decision switch
    {
        Decision.Allow => AuditDecisions.Allow,
        Decision.AllowWithConditions => AuditDecisions.AllowWithConditions,
        _ => AuditDecisions.Deny,
    };

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

    /// <summary>A decision and where it came from: l1, l2 or miss (evaluated), with the trace when asked.</summary>
    private readonly record struct Lookup(PolicyOutcome Outcome, string Tier, List<string>? Explanation);
}
