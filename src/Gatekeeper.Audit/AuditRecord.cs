namespace Gatekeeper.Audit;

/// <summary>
/// One answered decision, as the service hands it to <see cref="AuditLog"/>. The log stores every field
/// except <see cref="SubjectRef"/>, which it replaces with a keyed HMAC before anything touches the disk.
/// </summary>
public sealed class AuditRecord
{
    /// <summary>Time-ordered id returned to the caller; see <see cref="DecisionIds.New()"/>.</summary>
    public required string DecisionId { get; init; }

    /// <summary>When the decision was made (UTC). <c>default</c> means "now" from the log's <see cref="TimeProvider"/>.</summary>
    public DateTimeOffset Time { get; init; }

    /// <summary>Caller identity (peer address until client certificates exist).</summary>
    public string Caller { get; init; } = "";

    public string RequestId { get; init; } = "";

    public required string Category { get; init; }

    public required string Recipient { get; init; }

    public required string Purpose { get; init; }

    /// <summary>
    /// The request context as a JSON object (any formatting). The log stores it in canonical form:
    /// compact, object keys sorted ordinally, array order kept. Empty means <c>{}</c>.
    /// </summary>
    public string Context { get; init; } = "";

    /// <summary>One of <see cref="AuditDecisions"/>.</summary>
    public required string Decision { get; init; }

    public string RuleId { get; init; } = "";

    public string PolicyVersion { get; init; } = "";

    public AuditLawfulBasis LawfulBasis { get; init; } = AuditLawfulBasis.None;

    public IReadOnlyList<string> Obligations { get; init; } = [];

    public string Reason { get; init; } = "";

    /// <summary>One of <see cref="AuditCacheResults"/>.</summary>
    public string FromCache { get; init; } = AuditCacheResults.Miss;

    public string TraceId { get; init; } = "";

    /// <summary>Reference to the person. Never stored: only HMAC-SHA256(key, UTF-8(SubjectRef)) is.</summary>
    public string SubjectRef { get; init; } = "";
}

/// <summary>The lawful basis of a decision, mirroring <c>gatekeeper.v1.LawfulBasis</c>.</summary>
public sealed record AuditLawfulBasis(string Article6, string Article9, string Article10, IReadOnlyList<string> Legislation)
{
    public static AuditLawfulBasis None { get; } = new("", "", "", []);
}

/// <summary>The decision values the log accepts (the wire names of <c>gatekeeper.v1.Decision</c>).</summary>
public static class AuditDecisions
{
    public const string Allow = "allow";
    public const string AllowWithConditions = "allow_with_conditions";
    public const string Deny = "deny";

    public static bool IsValid(string? value) =>
        value is Allow or AllowWithConditions or Deny;
}

/// <summary>Where the decision came from: the in-process cache, Redis, or a fresh evaluation.</summary>
public static class AuditCacheResults
{
    public const string L1 = "l1";
    public const string L2 = "l2";
    public const string Miss = "miss";

    public static bool IsValid(string? value) =>
        value is L1 or L2 or Miss;
}
