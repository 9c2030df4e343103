namespace Gatekeeper.Audit;

/// <summary>A stored record as read back by <see cref="AuditQuery"/>: never the clear subject, only its HMAC.</summary>
public sealed class AuditEntry
{
    public long Sequence { get; init; }

    public string DecisionId { get; init; } = "";

    public DateTimeOffset Time { get; init; }

    /// <summary>The stored time text (ISO 8601 UTC, 7 fractional digits), exactly as hashed.</summary>
    public string TimeText { get; init; } = "";

    public string Caller { get; init; } = "";

    public string RequestId { get; init; } = "";

    public string Category { get; init; } = "";

    public string Recipient { get; init; } = "";

    public string Purpose { get; init; } = "";

    /// <summary>Canonical JSON object.</summary>
    public string ContextJson { get; init; } = "{}";

    public string Decision { get; init; } = "";

    public string RuleId { get; init; } = "";

    public string PolicyVersion { get; init; } = "";

    /// <summary>JSON object with article10, article6, article9 and legislation.</summary>
    public string LawfulBasisJson { get; init; } = "{}";

    /// <summary>JSON array of obligation codes.</summary>
    public string ObligationsJson { get; init; } = "[]";

    public string Reason { get; init; } = "";

    public string FromCache { get; init; } = "";

    public string TraceId { get; init; } = "";

    /// <summary>Hex HMAC-SHA256 of the subject reference; empty when the request named no subject.</summary>
    public string SubjectHmac { get; init; } = "";

    public string PrevHash { get; init; } = "";

    public string Hash { get; init; } = "";
}

/// <summary>Filters of <see cref="AuditQuery"/> and <c>audit export</c>; null means "any".</summary>
public sealed class AuditQueryFilter
{
    /// <summary>Inclusive lower bound on the decision time.</summary>
    public DateTimeOffset? From { get; init; }

    /// <summary>Exclusive upper bound on the decision time.</summary>
    public DateTimeOffset? To { get; init; }

    public string? Recipient { get; init; }

    public string? Category { get; init; }

    public string? Purpose { get; init; }

    public string? Decision { get; init; }

    public string? DecisionId { get; init; }

    /// <summary>The clear subject reference; it is HMACed with the audit key and matched against the stored HMAC.</summary>
    public string? Subject { get; init; }
}

/// <summary>One page of results; pass <see cref="NextPageToken"/> back to continue (null at the end).</summary>
public sealed record AuditPage(IReadOnlyList<AuditEntry> Entries, string? NextPageToken);
