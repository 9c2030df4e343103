namespace Gatekeeper.Policy;

/// <summary>
/// The answer. Numbers match the wire enum <c>gatekeeper.v1.Decision</c>; 0 is deliberately not a
/// member so that an uninitialised value is never mistaken for an allow.
/// </summary>
public enum PolicyEffect
{
    /// <summary>Share.</summary>
    Allow = 1,

    /// <summary>Share only if every obligation is honoured.</summary>
    AllowWithConditions = 2,

    /// <summary>Do not share.</summary>
    Deny = 3,
}

/// <summary>The lawful basis a rule declares (UK GDPR articles and the legislation behind them).</summary>
public sealed class LawfulBasis
{
    /// <summary>The empty basis carried by denials that declare none.</summary>
    public static readonly LawfulBasis None = new(string.Empty, string.Empty, string.Empty, []);

    /// <summary>Creates a basis; empty strings mean "not stated".</summary>
    public LawfulBasis(string article6, string article9, string article10, IReadOnlyList<string> legislation)
    {
        Article6 = article6;
        Article9 = article9;
        Article10 = article10;
        Legislation = legislation;
    }

    /// <summary>Article 6(1) condition, e.g. "6(1)(e)"; empty when not stated.</summary>
    public string Article6 { get; }

    /// <summary>Article 9(2) condition for special category data, with its DPA 2018 Schedule 1 condition when needed.</summary>
    public string Article9 { get; }

    /// <summary>Article 10 authorisation for criminal offence data (DPA 2018 s.10(5) and Schedule 1).</summary>
    public string Article10 { get; }

    /// <summary>Acts and regulations relied on.</summary>
    public IReadOnlyList<string> Legislation { get; }
}

/// <summary>
/// The outcome of one evaluation. Instances are created once per rule (and per built-in denial) when
/// the policy is compiled, and shared by every evaluation, so that answering allocates nothing.
/// <para>
/// Effect and obligations: a deny never carries obligations; an allow rule that lists obligations
/// yields <see cref="PolicyEffect.AllowWithConditions"/>, an allow rule without obligations yields
/// <see cref="PolicyEffect.Allow"/>.
/// </para>
/// </summary>
public sealed class PolicyOutcome
{
    /// <summary>Creates an outcome; used by the compiler.</summary>
    public PolicyOutcome(PolicyEffect effect, string ruleId, string reason, LawfulBasis lawfulBasis, IReadOnlyList<string> obligations, string source)
    {
        Effect = effect;
        RuleId = ruleId;
        Reason = reason;
        LawfulBasis = lawfulBasis;
        Obligations = obligations;
        Source = source;
    }

    /// <summary>Allow, allow with conditions, or deny.</summary>
    public PolicyEffect Effect { get; }

    /// <summary>The deciding rule, or a built-in code: no_matching_rule, unknown_category, unknown_recipient, unknown_purpose.</summary>
    public string RuleId { get; }

    /// <summary>Human-readable reason.</summary>
    public string Reason { get; }

    /// <summary>The lawful basis the deciding rule declares.</summary>
    public LawfulBasis LawfulBasis { get; }

    /// <summary>Obligation codes the recipient of an allow must honour; empty for a deny.</summary>
    public IReadOnlyList<string> Obligations { get; }

    /// <summary>The seed sentence or law the rule comes from.</summary>
    public string Source { get; }

    /// <summary>True for <see cref="PolicyEffect.Allow"/> and <see cref="PolicyEffect.AllowWithConditions"/>.</summary>
    public bool IsAllowed => Effect is PolicyEffect.Allow or PolicyEffect.AllowWithConditions;
}
