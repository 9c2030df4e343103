using System.Diagnostics;
using System.Runtime.CompilerServices;
using Gatekeeper.Audit;
using Gatekeeper.Policy;

namespace Gatekeeper.Telemetry;

/// <summary>
/// What the decision pipeline adds to telemetry: decision attributes on the server span, the decisions counter,
/// and the audit commit and evaluation timings. Every entry point returns at once while nothing listens.
/// </summary>
internal static class DecisionTelemetry
{
    public const string AuditCommitSpanName = "gatekeeper.audit.commit";

    // Outcomes are immutable and belong to one compiled policy, so their metric tags are built once per outcome.
    private static readonly ConditionalWeakTable<PolicyOutcome, KeyValuePair<string, object?>[]> DecisionTags = new();
    private static readonly KeyValuePair<string, object?>[] AuditFailed = [new(TelemetryTags.ErrorType, nameof(AuditUnavailableException))];
    private static readonly object[] BoxedBatchSizes = CreateBoxedSizes(128);
    private static readonly KeyValuePair<string, object?>[][] CommitTagSets = CreateCommitTagSets(128);

    /// <summary>The server span of the current call, when it is being recorded; null otherwise.</summary>
    public static Activity? RecordedServerSpan()
    {
        var activity = Activity.Current;
        return activity is { IsAllDataRequested: true, Kind: ActivityKind.Server } && ReferenceEquals(activity.Source, GatekeeperMetrics.ActivitySource)
            ? activity
            : null;
    }

    /// <summary>
    /// Puts one decision on the server span. Only vocabulary ids, the rule, the version, the cache tier and the
    /// server's own decision id (to find the audit record): never the subject reference nor the request id.
    /// </summary>
    public static void TagDecision(Activity span, string decision, string category, string recipient, string purpose, string ruleId, string policyVersion, string cacheTier, string decisionId)
    {
        // AddTag appends; SetTag would first search the span's tag list for each key, which is never there yet.
        span.AddTag(TelemetryTags.Decision, decision);
        span.AddTag(TelemetryTags.Category, category);
        span.AddTag(TelemetryTags.Recipient, recipient);
        span.AddTag(TelemetryTags.Purpose, purpose);
        span.AddTag(TelemetryTags.RuleId, ruleId);
        span.AddTag(TelemetryTags.PolicyVersion, policyVersion);
        span.AddTag(TelemetryTags.Cache, cacheTier);
        span.AddTag(TelemetryTags.DecisionId, decisionId);
    }

    /// <summary>Tags a DecideBatch span: the batch size and version; each decision is in the counter and the audit log.</summary>
    public static void TagBatch(Activity span, int size, string policyVersion)
    {
        span.SetTag(TelemetryTags.BatchSize, (uint)size < (uint)BoxedBatchSizes.Length ? BoxedBatchSizes[size] : size);
        span.SetTag(TelemetryTags.PolicyVersion, policyVersion);
    }

    /// <summary>Counts one answer by decision, rule and policy version.</summary>
    public static void CountDecision(PolicyOutcome outcome, string decision, string policyVersion)
    {
        if (!GatekeeperMetrics.Decisions.Enabled)
        {
            return;
        }

        if (!DecisionTags.TryGetValue(outcome, out var tags) || !string.Equals((string?)tags[2].Value, policyVersion, StringComparison.Ordinal))
        {
            tags =
            [
                new(TelemetryTags.Decision, decision),
                new(TelemetryTags.RuleId, outcome.RuleId),
                new(TelemetryTags.PolicyVersion, policyVersion),
            ];
            DecisionTags.AddOrUpdate(outcome, tags);
        }

        GatekeeperMetrics.Decisions.Add(1, tags);
    }

    /// <summary>Starts timing an evaluation; 0 when nobody listens.</summary>
    public static long StartEvaluation() => GatekeeperMetrics.EvaluationDuration.Enabled ? Stopwatch.GetTimestamp() : 0;

    /// <summary>Records an evaluation started with <see cref="StartEvaluation"/>.</summary>
    public static void EndEvaluation(long started)
    {
        if (started != 0)
        {
            GatekeeperMetrics.EvaluationDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }

    /// <summary>Waits for the audit append, as a child span of the call and in the commit histogram.</summary>
    /// <remarks>
    /// The span is only started under a recorded server span: a child of an unsampled call would be dropped by any
    /// standard sampler (parent-based, or trace-id ratio, which decides the same for the same trace id), but asking
    /// the SDK costs an activity creation attempt per call. The state machine is pooled: with the audit log on the
    /// append never completes synchronously, so an ordinary async ValueTask would allocate a box on every call.
    /// </remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public static async ValueTask TraceCommitAsync(ValueTask append, int records)
    {
        var started = GatekeeperMetrics.AuditCommitDuration.Enabled ? Stopwatch.GetTimestamp() : 0;
        using var span = RecordedServerSpan() is { } server
            ? GatekeeperMetrics.ActivitySource.StartActivity(AuditCommitSpanName, ActivityKind.Internal, server.Context, CommitTags(records))
            : null;
        try
        {
            await append;
        }
        catch (AuditUnavailableException ex)
        {
            span?.SetStatus(ActivityStatusCode.Error, ex.Reason.ToString());
            span?.SetTag(TelemetryTags.ErrorType, nameof(AuditUnavailableException));
            if (started != 0)
            {
                GatekeeperMetrics.AuditCommitDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, AuditFailed);
            }

            throw;
        }

        if (started != 0)
        {
            GatekeeperMetrics.AuditCommitDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }

    /// <summary>Whether the audit append needs <see cref="TraceCommitAsync"/> (a listener) or can be awaited bare.</summary>
    public static bool CommitObserved => GatekeeperMetrics.AuditCommitDuration.Enabled || GatekeeperMetrics.ActivitySource.HasListeners();

    /// <summary>The commit span's attributes: built once per record count up to 127 (Decide is always 1).</summary>
    private static KeyValuePair<string, object?>[] CommitTags(int records) =>
        (uint)records < (uint)CommitTagSets.Length ? CommitTagSets[records] : [new(TelemetryTags.AuditRecords, records)];

    private static KeyValuePair<string, object?>[][] CreateCommitTagSets(int count)
    {
        var sets = new KeyValuePair<string, object?>[count][];
        for (var i = 0; i < count; i++)
        {
            sets[i] = [new(TelemetryTags.AuditRecords, BoxedBatchSizes[i])];
        }

        return sets;
    }

    private static object[] CreateBoxedSizes(int count)
    {
        var boxed = new object[count];
        for (var i = 0; i < count; i++)
        {
            boxed[i] = i;
        }

        return boxed;
    }
}
