using System.Collections.Frozen;
using Gatekeeper.Policy.Internal;

namespace Gatekeeper.Policy;

/// <summary>
/// An immutable, indexed policy. Safe to share between threads; a reload builds a new instance.
/// <para>
/// Evaluation: the three ids are looked up in ordinal frozen dictionaries (unknown ids deny with
/// unknown_category, unknown_recipient, unknown_purpose, checked in that order); the (purpose,
/// recipient, category) triple selects a precomputed cell holding only the rules that name all three,
/// deny rules first, then allow rules in policy order; the context is reduced to one bitmask; the
/// first deny that matches decides, else the first allow that matches, else no_matching_rule.
/// Outcomes are preallocated, so <see cref="Evaluate"/> allocates nothing.
/// </para>
/// </summary>
public sealed class CompiledPolicy
{
    private readonly FrozenDictionary<string, int> _categoryIds;
    private readonly FrozenDictionary<string, int> _recipientIds;
    private readonly FrozenDictionary<string, int> _purposeIds;
    private readonly FrozenDictionary<string, int> _statusIds;
    private readonly FrozenDictionary<string, int> _countryIds;
    private readonly string[] _statusNames;
    private readonly string[] _countryNames;
    private readonly CompiledRule[][] _cells;
    private readonly int _recipientCount;
    private readonly int _categoryCount;
    private readonly PolicyOutcome _noMatchingRule;
    private readonly PolicyOutcome _unknownCategory;
    private readonly PolicyOutcome _unknownRecipient;
    private readonly PolicyOutcome _unknownPurpose;
    private readonly FrozenDictionary<string, PolicyOutcome> _outcomesByRule;

    internal CompiledPolicy(
        string version,
        string? label,
        string contentHash,
        FrozenDictionary<string, int> categoryIds,
        FrozenDictionary<string, int> recipientIds,
        FrozenDictionary<string, int> purposeIds,
        FrozenDictionary<string, int> statusIds,
        string[] countryNames,
        CompiledRule[][] cells,
        IReadOnlyList<CompiledRule> rules)
    {
        Version = version;
        Label = label;
        ContentHash = contentHash;
        _categoryIds = categoryIds;
        _recipientIds = recipientIds;
        _purposeIds = purposeIds;
        _statusIds = statusIds;
        _statusNames = new string[statusIds.Count];
        foreach (var (name, index) in statusIds)
        {
            _statusNames[index] = name;
        }

        _countryNames = countryNames;
        var countries = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < countryNames.Length; i++)
        {
            countries[countryNames[i]] = i;
        }

        _countryIds = countries.ToFrozenDictionary(StringComparer.Ordinal);
        _cells = cells;
        _recipientCount = recipientIds.Count;
        _categoryCount = categoryIds.Count;
        Rules = rules;
        var ruleIds = new string[rules.Count];
        for (int i = 0; i < rules.Count; i++)
        {
            ruleIds[i] = rules[i].Id;
        }

        RuleIds = ruleIds;
        _noMatchingRule = BuiltIn(NoMatchingRule, "No rule of the policy allows this disclosure for this category, recipient, purpose and context; only what a rule allows may be shared.");
        _unknownCategory = BuiltIn(UnknownCategory, "The record category is not defined in the policy, so nothing can allow sharing it.");
        _unknownRecipient = BuiltIn(UnknownRecipient, "The recipient is not defined in the policy: only the recipients listed in the privacy notice may receive data.");
        _unknownPurpose = BuiltIn(UnknownPurpose, "The purpose is not defined in the policy, so nothing can allow sharing for it.");
        var outcomes = new Dictionary<string, PolicyOutcome>(StringComparer.Ordinal);
        foreach (var builtIn in (ReadOnlySpan<PolicyOutcome>)[_noMatchingRule, _unknownCategory, _unknownRecipient, _unknownPurpose])
        {
            outcomes[builtIn.RuleId] = builtIn;
        }

        foreach (var rule in rules)
        {
            outcomes[rule.Id] = rule.Outcome;
        }

        _outcomesByRule = outcomes.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>Rule id of the denial when no rule matches.</summary>
    public const string NoMatchingRule = "no_matching_rule";

    /// <summary>Rule id of the denial for a category the policy does not define.</summary>
    public const string UnknownCategory = "unknown_category";

    /// <summary>Rule id of the denial for a recipient the policy does not define.</summary>
    public const string UnknownRecipient = "unknown_recipient";

    /// <summary>Rule id of the denial for a purpose the policy does not define.</summary>
    public const string UnknownPurpose = "unknown_purpose";

    /// <summary>"sha256:&lt;16 hex&gt;", or "&lt;label&gt;+sha256:&lt;16 hex&gt;" when the policy has a label.</summary>
    public string Version { get; }

    /// <summary>The human label from the policy file, or null.</summary>
    public string? Label { get; }

    /// <summary>"sha256:&lt;16 hex&gt;" over the policy's files.</summary>
    public string ContentHash { get; }

    /// <summary>Rule ids in policy order.</summary>
    public IReadOnlyList<string> RuleIds { get; }

    /// <summary>Defined category ids.</summary>
    public IReadOnlyCollection<string> Categories => _categoryIds.Keys;

    /// <summary>Defined recipient ids.</summary>
    public IReadOnlyCollection<string> Recipients => _recipientIds.Keys;

    /// <summary>Defined purpose ids (including refuse-only ones).</summary>
    public IReadOnlyCollection<string> Purposes => _purposeIds.Keys;

    internal IReadOnlyList<CompiledRule> Rules { get; }

    /// <summary>Who may ask what (the <c>callers</c> section); <see cref="CallerPolicy.LoopbackOnly"/> when the policy has none.</summary>
    public CallerPolicy Callers { get; internal init; } = CallerPolicy.LoopbackOnly;

    /// <summary>
    /// The outcome a rule (or built-in denial) of this policy gives, by rule id. For caches that store
    /// the rule id: an id this policy does not have returns false.
    /// </summary>
    public bool TryGetOutcome(string ruleId, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out PolicyOutcome outcome) =>
        _outcomesByRule.TryGetValue(ruleId, out outcome);

    /// <summary>Answers one question. Allocates nothing; safe to call from any number of threads.</summary>
    public PolicyOutcome Evaluate(in PolicyQuery q)
    {
        var cell = Cell(in q, out var builtIn);
        if (cell is null)
        {
            return builtIn;
        }

        if (cell.Length == 0)
        {
            return _noMatchingRule;
        }

        ulong context = Context(in q, out ulong statuses, out int country);
        foreach (var rule in cell)
        {
            if (rule.Matches(context, statuses, country))
            {
                return rule.Outcome;
            }
        }

        return _noMatchingRule;
    }

    /// <summary>
    /// Answers like <see cref="Evaluate"/> and appends to <paramref name="explanation"/> one line per rule
    /// considered (those naming this category, recipient and purpose) saying whether and why it matched,
    /// then a line naming the decision. Allocates; for explain=true requests only.
    /// </summary>
    public PolicyOutcome Explain(in PolicyQuery q, List<string> explanation)
    {
        ArgumentNullException.ThrowIfNull(explanation);
        var cell = Cell(in q, out var builtIn);
        if (cell is null)
        {
            string which = builtIn.RuleId switch
            {
                UnknownCategory => $"category '{q.Category}'",
                UnknownRecipient => $"recipient '{q.Recipient}'",
                _ => $"purpose '{q.Purpose}'",
            };
            explanation.Add($"{which} is not defined in policy {Version}: deny {builtIn.RuleId}");
            return builtIn;
        }

        ulong context = Context(in q, out ulong statuses, out int country);
        PolicyOutcome? decided = null;
        foreach (var rule in cell)
        {
            string effect = rule.IsDeny ? "deny" : "allow";
            string why = rule.Mismatch(context, statuses, country, _statusNames, _countryNames);
            if (why.Length > 0)
            {
                explanation.Add($"rule {rule.Id} ({effect}): not matched: {why}");
            }
            else if (decided is null)
            {
                decided = rule.Outcome;
                explanation.Add($"rule {rule.Id} ({effect}): matched; decides{(rule.IsDeny ? " (deny overrides allow)" : string.Empty)}");
            }
            else
            {
                explanation.Add($"rule {rule.Id} ({effect}): matched; not needed, rule {decided.RuleId} already decided");
            }
        }

        if (decided is null)
        {
            explanation.Add(cell.Length == 0
                ? $"no rule names category '{q.Category}', recipient '{q.Recipient}' and purpose '{q.Purpose}' together: deny {NoMatchingRule}"
                : $"no rule matched: deny {NoMatchingRule}");
            return _noMatchingRule;
        }

        explanation.Add($"decision: {decided.Effect} by rule {decided.RuleId} (policy {Version})");
        return decided;
    }

    private CompiledRule[]? Cell(in PolicyQuery q, out PolicyOutcome builtIn)
    {
        // Null checks first: FrozenDictionary throws on a null key and default(PolicyQuery) has nulls.
        if (q.Category is null || !_categoryIds.TryGetValue(q.Category, out int c))
        {
            builtIn = _unknownCategory;
            return null;
        }

        if (q.Recipient is null || !_recipientIds.TryGetValue(q.Recipient, out int r))
        {
            builtIn = _unknownRecipient;
            return null;
        }

        if (q.Purpose is null || !_purposeIds.TryGetValue(q.Purpose, out int p))
        {
            builtIn = _unknownPurpose;
            return null;
        }

        builtIn = _noMatchingRule;
        return _cells[(((p * _recipientCount) + r) * _categoryCount) + c];
    }

    private ulong Context(in PolicyQuery q, out ulong statuses, out int country)
    {
        // Out-of-range enum values set no bit in their group, so no rule can match them.
        uint form = (uint)q.Form;
        ulong context = form < 3 ? 1UL << (ContextBits.FormShift + (int)form) : 0;
        uint consent = (uint)q.Consent;
        context |= consent < 4 ? 1UL << (ContextBits.ConsentShift + (int)consent) : 0;
        context |= q.SubjectRequest ? ContextBits.RequestTrue : ContextBits.RequestFalse;
        context |= q.SubjectIsMinor switch
        {
            true => ContextBits.MinorTrue,
            false => ContextBits.MinorFalse,
            null => ContextBits.MinorUnknown,
        };

        string? destination = q.DestinationCountry;
        country = -1;
        if (string.IsNullOrEmpty(destination) || destination == "GB")
        {
            context |= ContextBits.DestinationUk;
        }
        else
        {
            context |= ContextBits.DestinationAbroad;
            if (_countryNames.Length > 0 && _countryIds.TryGetValue(destination, out int id))
            {
                country = id;
            }
        }

        statuses = 0;
        var list = q.SubjectStatuses;
        if (list is not null)
        {
            // Indexer, not foreach: enumerating through the interface would box an enumerator.
            for (int i = 0; i < list.Count; i++)
            {
                var status = list[i];
                if (status is not null && _statusIds.TryGetValue(status, out int s))
                {
                    statuses |= 1UL << s;
                }
            }
        }

        return context;
    }

    private static PolicyOutcome BuiltIn(string id, string reason) =>
        new(PolicyEffect.Deny, id, reason, LawfulBasis.None, [], "built-in: deny by default");
}
