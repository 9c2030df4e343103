using System.Collections.Frozen;
using System.Text.RegularExpressions;

namespace Gatekeeper.Policy.Internal;

/// <summary>
/// Resolves every reference, checks the legal and logical rules a policy must obey, and builds the
/// evaluation index. Reports every error it can find, never only the first.
/// </summary>
internal sealed partial class PolicyCompiler
{
    private const string Special = "special_category";
    private const string Criminal = "criminal_offence";
    private static readonly string[] DataClasses = ["personal", Special, Criminal];
    private static readonly string[] Effects = ["allow", "deny", "allow_with_conditions"];

    private readonly RawPolicy _raw;
    private readonly List<PolicyError> _errors;
    private readonly PolicyLoaderOptions _options;
    private readonly Dictionary<string, int> _categories = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _recipientClasses = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _recipients = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _purposes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _statuses = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _obligations = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _countries = new(StringComparer.Ordinal);
    private readonly List<string> _countryNames = [];
    private List<RawDefinition> _categoryDefs = [];
    private List<RawDefinition> _recipientDefs = [];
    private List<RawDefinition> _purposeDefs = [];
    private bool[] _special = [];
    private bool[] _criminal = [];
    private List<int>[] _classMembers = [];

    private PolicyCompiler(RawPolicy raw, List<PolicyError> errors, PolicyLoaderOptions options)
    {
        _raw = raw;
        _errors = errors;
        _options = options;
    }

    public static CompiledPolicy? Compile(string path, IReadOnlyList<PolicySource> sources, PolicyLoaderOptions options, List<PolicyError> errors)
    {
        var raw = new RawPolicy();
        foreach (var source in sources)
        {
            PolicyParser.Parse(source, raw, errors);
        }

        return new PolicyCompiler(raw, errors, options).Build(path, sources);
    }

    private void Error(Loc loc, string message) => _errors.Add(loc.Error(message));

    private CompiledPolicy? Build(string path, IReadOnlyList<PolicySource> sources)
    {
        _categoryDefs = Define(_raw.Categories, _categories, "category", "categories");
        Define(_raw.RecipientClasses, _recipientClasses, "recipient class", "recipient_classes");
        _recipientDefs = Define(_raw.Recipients, _recipients, "recipient", "recipients");
        _purposeDefs = Define(_raw.Purposes, _purposes, "purpose", "purposes");
        Define(_raw.Statuses, _statuses, "subject status", "subject_statuses");
        Define(_raw.Obligations, _obligations, "obligation", "obligations");
        ResolveCategoryClasses();
        ResolveRecipientClasses();
        if (_statuses.Count > 64)
        {
            Error(_raw.Statuses[64].Loc, "more than 64 subject statuses; the engine keeps them in one 64-bit mask, so merge or remove some");
        }

        var policyLoc = new Loc(path, 0, 0);

        // Whole-policy checks only when the files had the right shape: otherwise they only repeat
        // the shape errors in other words.
        bool shapeErrors = _errors.Count > 0;
        if (!shapeErrors && _raw.Rules.Count == 0)
        {
            Error(policyLoc, "the policy has no rules, so it would deny everything; add rules under 'rules:'");
        }

        foreach (var (vocabulary, name) in new[] { (_categories, "categories"), (_recipients, "recipients"), (_purposes, "purposes") })
        {
            if (!shapeErrors && vocabulary.Count == 0)
            {
                Error(policyLoc, $"the policy defines no {name}; define them under '{name}:'");
            }
        }

        var rules = new List<CompiledRule>();
        var ruleIds = new Dictionary<string, RawRule>(StringComparer.Ordinal);
        foreach (var raw in _raw.Rules)
        {
            if (!ruleIds.TryAdd(raw.Id, raw))
            {
                Error(raw.Loc, $"duplicate rule id '{raw.Id}' (first at {ruleIds[raw.Id].Loc}); rule ids must be unique because answers and audits name them");
            }

            if (CompileRule(raw) is { } rule)
            {
                rules.Add(rule);
            }
        }

        var callers = CompileCallers();
        if (_errors.Count > 0)
        {
            return null;
        }

        var cells = BuildIndex(rules, policyLoc);
        if (cells is null)
        {
            return null;
        }

        CheckReachability(rules, cells);
        if (_errors.Count > 0)
        {
            return null;
        }

        string hash = PolicySources.ContentHash(sources);
        string? label = _raw.Label?.Id;
        return new CompiledPolicy(
            label is null ? hash : label + "+" + hash,
            label,
            hash,
            _categories.ToFrozenDictionary(StringComparer.Ordinal),
            _recipients.ToFrozenDictionary(StringComparer.Ordinal),
            _purposes.ToFrozenDictionary(StringComparer.Ordinal),
            _statuses.ToFrozenDictionary(StringComparer.Ordinal),
            [.. _countryNames],
            cells,
            rules)
        {
            Callers = callers,
        };
    }

    private List<RawDefinition> Define(List<RawDefinition> definitions, Dictionary<string, int> into, string kind, string section)
    {
        var accepted = new List<RawDefinition>();
        var first = new Dictionary<string, Loc>(StringComparer.Ordinal);
        foreach (var def in definitions)
        {
            if (first.TryGetValue(def.Id, out var where))
            {
                Error(def.Loc, $"{kind} '{def.Id}' is defined twice (first at {where}); keep one definition under '{section}:'");
                continue;
            }

            first[def.Id] = def.Loc;
            into[def.Id] = into.Count;
            accepted.Add(def);
        }

        return accepted;
    }

    private void ResolveCategoryClasses()
    {
        _special = new bool[_categories.Count];
        _criminal = new bool[_categories.Count];
        foreach (var def in _raw.Categories)
        {
            if (!_categories.TryGetValue(def.Id, out int index))
            {
                continue;
            }

            foreach (var cls in def.Classes)
            {
                switch (cls.Id)
                {
                    case Special:
                        _special[index] = true;
                        break;
                    case Criminal:
                        _criminal[index] = true;
                        break;
                    case "personal":
                        break;
                    default:
                        Error(cls.Loc, $"unknown data-protection class '{cls.Id}'{PolicyParser.Suggest(cls.Id, DataClasses)}; use personal, special_category, criminal_offence, or [special_category, criminal_offence]");
                        break;
                }
            }
        }
    }

    private void ResolveRecipientClasses()
    {
        _classMembers = new List<int>[_recipientClasses.Count];
        for (int i = 0; i < _classMembers.Length; i++)
        {
            _classMembers[i] = [];
        }

        foreach (var def in _raw.Recipients)
        {
            if (def.RecipientClass is not { } cls || !_recipients.TryGetValue(def.Id, out int index))
            {
                continue;
            }

            if (_recipientClasses.TryGetValue(cls.Id, out int classIndex))
            {
                _classMembers[classIndex].Add(index);
            }
            else
            {
                Error(cls.Loc, $"recipient '{def.Id}' has unknown class '{cls.Id}'{PolicyParser.Suggest(cls.Id, _recipientClasses.Keys)}; define it under 'recipient_classes:'");
            }
        }
    }

    private ulong[] Select(RawRule rule, RawSelector selector, Dictionary<string, int> vocabulary, string kind, string section)
    {
        var bits = Bits.Create(vocabulary.Count);
        if (selector.All)
        {
            Bits.SetAll(bits, vocabulary.Count);
        }

        foreach (var id in selector.Ids)
        {
            if (Resolve(rule, id, vocabulary, kind, section) is int i)
            {
                Bits.Set(bits, i);
            }
        }

        foreach (var id in selector.Except)
        {
            if (Resolve(rule, id, vocabulary, kind, section) is int i)
            {
                Bits.Clear(bits, i);
            }
        }

        return bits;
    }

    private int? Resolve(RawRule rule, IdRef id, Dictionary<string, int> vocabulary, string kind, string section)
    {
        if (vocabulary.TryGetValue(id.Id, out int index))
        {
            return index;
        }

        Error(id.Loc, $"rule '{rule.Id}': unknown {kind} '{id.Id}'{PolicyParser.Suggest(id.Id, vocabulary.Keys)}; correct it or define it under '{section}:'");
        return null;
    }

    private ulong Flags(RawRule rule, List<IdRef>? values, string[] names, int shift, ulong groupMask, string what)
    {
        if (values is null)
        {
            return groupMask;
        }

        ulong mask = 0;
        foreach (var v in values)
        {
            int i = Array.IndexOf(names, v.Id);
            if (i < 0)
            {
                Error(v.Loc, $"rule '{rule.Id}': '{v.Id}' is not a {what}{PolicyParser.Suggest(v.Id, names)}; use one of {string.Join(", ", names)}");
                continue;
            }

            mask |= 1UL << (shift + i);
        }

        return mask;
    }

    private ulong StatusMask(RawRule rule, List<IdRef>? statuses)
    {
        ulong mask = 0;
        foreach (var s in statuses ?? [])
        {
            if (Resolve(rule, s, _statuses, "subject status", "subject_statuses") is int i && i < 64)
            {
                mask |= 1UL << i;
            }
        }

        return mask;
    }

    private CompiledRule? CompileRule(RawRule raw)
    {
        int before = _errors.Count;
        string effect = raw.Effect?.Id ?? "deny";
        if (raw.Effect is { } e && Array.IndexOf(Effects, e.Id) < 0)
        {
            Error(e.Loc, $"rule '{raw.Id}': effect '{e.Id}' is not allow, deny or allow_with_conditions{PolicyParser.Suggest(e.Id, Effects)}");
        }

        bool isDeny = effect == "deny";
        var rule = new CompiledRule(raw.Id, raw.Order, isDeny, raw.Loc);
        if (raw.Categories is { } cats)
        {
            rule.Categories = Select(raw, cats, _categories, "category", "categories");
        }

        var recipients = Bits.Create(_recipients.Count);
        if (raw.Recipients is { } recs)
        {
            var r = Select(raw, recs, _recipients, "recipient", "recipients");
            for (int i = 0; i < r.Length; i++)
            {
                recipients[i] |= r[i];
            }
        }

        foreach (var cls in raw.RecipientClasses ?? [])
        {
            if (Resolve(raw, cls, _recipientClasses, "recipient class", "recipient_classes") is int ci)
            {
                foreach (int member in _classMembers[ci])
                {
                    Bits.Set(recipients, member);
                }
            }
        }

        rule.Recipients = recipients;
        if (raw.Purposes is { } purps)
        {
            rule.Purposes = Select(raw, purps, _purposes, "purpose", "purposes");
        }

        ulong context = Flags(raw, raw.Form, ContextBits.FormNames, ContextBits.FormShift, ContextBits.FormMask, "form (data form)");
        context |= Flags(raw, raw.Consent, ContextBits.ConsentNames, ContextBits.ConsentShift, ContextBits.ConsentMask, "consent value");
        context |= raw.SubjectRequest switch
        {
            true => ContextBits.RequestTrue,
            false => ContextBits.RequestFalse,
            null => ContextBits.RequestMask,
        };
        context |= Flags(raw, raw.SubjectIsMinor, ContextBits.MinorNames, 9, ContextBits.MinorMask, "subject_is_minor value (true, false or unknown)");
        context |= Destination(raw, rule);
        rule.ContextMask = context;
        rule.StatusAny = StatusMask(raw, raw.StatusAnyOf);
        rule.StatusNone = StatusMask(raw, raw.StatusNoneOf);

        var obligations = new List<string>();
        foreach (var o in raw.Obligations)
        {
            if (Resolve(raw, o, _obligations, "obligation", "obligations") is not null && !obligations.Contains(o.Id))
            {
                obligations.Add(o.Id);
            }
        }

        if (_errors.Count > before)
        {
            return null;
        }

        CheckSatisfiable(raw, rule);
        if (isDeny)
        {
            if (obligations.Count > 0)
            {
                Error(raw.Obligations[0].Loc, $"deny rule '{raw.Id}' has obligations; obligations are conditions on an allow, so remove them or make the rule an allow");
            }
        }
        else
        {
            if (effect == "allow_with_conditions" && obligations.Count == 0)
            {
                Error(raw.Effect!.Value.Loc, $"rule '{raw.Id}' is allow_with_conditions but lists no obligations; add the obligations or write effect: allow");
            }

            CheckAllow(raw, rule);
        }

        var basis = new LawfulBasis(raw.Article6?.Id ?? string.Empty, raw.Article9?.Id ?? string.Empty, raw.Article10?.Id ?? string.Empty, [.. raw.Legislation]);
        var outcomeEffect = isDeny ? PolicyEffect.Deny : obligations.Count > 0 ? PolicyEffect.AllowWithConditions : PolicyEffect.Allow;
        rule.Outcome = new PolicyOutcome(outcomeEffect, raw.Id, raw.Reason, basis, [.. obligations], raw.Source);
        return rule;
    }

    private ulong Destination(RawRule raw, CompiledRule rule)
    {
        switch (raw.Destination)
        {
            case DestinationKind.Uk:
                return ContextBits.DestinationUk;
            case DestinationKind.Abroad:
                return ContextBits.DestinationAbroad;
            case DestinationKind.Countries:
                ulong mask = 0;
                var countries = new List<int>();
                foreach (var c in raw.Countries)
                {
                    if (c.Id == "GB")
                    {
                        mask |= ContextBits.DestinationUk;
                        continue;
                    }

                    if (!_countries.TryGetValue(c.Id, out int index))
                    {
                        index = _countries.Count;
                        _countries[c.Id] = index;
                        _countryNames.Add(c.Id);
                    }

                    countries.Add(index);
                }

                if (countries.Count > 0)
                {
                    // Sized later, when every country is known (see BuildIndex).
                    var bits = new ulong[(countries.Max() + 64) >> 6];
                    foreach (int i in countries)
                    {
                        Bits.Set(bits, i);
                    }

                    rule.Countries = bits;
                }

                return mask;
            default:
                return ContextBits.DestinationMask;
        }
    }

    private void CheckSatisfiable(RawRule raw, CompiledRule rule)
    {
        var empty = new List<string>();
        if (Bits.First(rule.Categories) < 0)
        {
            empty.Add("categories");
        }

        if (Bits.First(rule.Recipients) < 0)
        {
            empty.Add("recipients");
        }

        if (Bits.First(rule.Purposes) < 0)
        {
            empty.Add("purposes");
        }

        if (empty.Count > 0)
        {
            Error(raw.Loc, $"rule '{raw.Id}' can never match: it selects no {string.Join(", no ", empty)} (check all_except and recipient_classes)");
        }

        if (rule.StatusAny != 0 && (rule.StatusAny & ~rule.StatusNone) == 0)
        {
            Error(raw.Loc, $"rule '{raw.Id}' can never match: every status in subject_statuses.any_of is also in none_of");
        }
    }

    [GeneratedRegex(@"^6\(1\)\([a-f]\)")]
    private static partial Regex Article6Pattern();

    [GeneratedRegex(@"^9\(2\)\([a-j]\)")]
    private static partial Regex Article9Pattern();

    [GeneratedRegex(@"^10(\(1\))?(\s|$|\+|;|,)")]
    private static partial Regex Article10Pattern();

    [GeneratedRegex(@"Sch(edule)?\.? ?1,? Part 2")]
    private static partial Regex Schedule1Part2();

    private void CheckAllow(RawRule raw, CompiledRule rule)
    {
        var loc = raw.LawfulBasisLoc ?? raw.Loc;
        foreach (int p in Bits.Indexes(rule.Purposes))
        {
            var def = _purposeDefs[p];
            if (def.RefuseOnly)
            {
                Error(raw.Purposes!.Loc, $"allow rule '{raw.Id}' covers purpose '{def.Id}', which the policy marks refuse_only; remove it (use purposes: {{ all_except: [...] }} instead of '*')");
            }
        }

        if (raw.Article6 is not { } a6)
        {
            Error(loc, $"allow rule '{raw.Id}' has no lawful_basis.article6; every allow needs an Article 6(1) condition, e.g. \"6(1)(e)\" (public task) or \"6(1)(c)\" (legal obligation)");
        }
        else if (!Article6Pattern().IsMatch(a6.Id))
        {
            Error(a6.Loc, $"rule '{raw.Id}': article6 '{a6.Id}' must start with an Article 6(1) point such as 6(1)(e)");
        }

        // Anonymised data is not personal data (UK GDPR Recital 26), so a rule that only ever releases
        // anonymised data needs no Article 9 or 10 condition.
        bool anonymisedOnly = (rule.ContextMask & ContextBits.FormMask) == 1UL << (ContextBits.FormShift + 2);
        if (anonymisedOnly)
        {
            return;
        }

        var special = new List<string>();
        var criminal = new List<string>();
        foreach (int c in Bits.Indexes(rule.Categories))
        {
            if (_special[c])
            {
                special.Add(_categoryDefs[c].Id);
            }

            if (_criminal[c])
            {
                criminal.Add(_categoryDefs[c].Id);
            }
        }

        if (special.Count > 0)
        {
            if (raw.Article9 is not { } a9)
            {
                Error(loc, $"allow rule '{raw.Id}' releases special category data ({string.Join(", ", special)}) without an Article 9 condition; add lawful_basis.article9 (e.g. \"9(2)(h)\" for health or social care professionals, \"9(2)(g) + DPA 2018 Sch 1 Part 2 para 18\" for safeguarding), restrict the rule to form: anonymised, or remove those categories");
            }
            else if (!Article9Pattern().IsMatch(a9.Id))
            {
                Error(a9.Loc, $"rule '{raw.Id}': article9 '{a9.Id}' must start with an Article 9(2) point such as 9(2)(h)");
            }
            else if (a9.Id.StartsWith("9(2)(h)", StringComparison.Ordinal))
            {
                var outside = new List<string>();
                foreach (int r in Bits.Indexes(rule.Recipients))
                {
                    // A processor's processing is the council's own (Art 28), done under the council's professionals.
                    if (!_recipientDefs[r].HealthOrSocialWork && !_recipientDefs[r].Processor)
                    {
                        outside.Add(_recipientDefs[r].Id);
                    }
                }

                if (outside.Count > 0)
                {
                    Error(a9.Loc, $"rule '{raw.Id}' relies on 9(2)(h), which DPA 2018 s.11(1) limits to health or social work professionals (or others owing a duty of confidentiality), but recipients {string.Join(", ", outside)} are not marked health_or_social_work; use 9(2)(g) with a DPA 2018 Sch 1 Part 2 condition (para 18 safeguarding, para 10 unlawful acts, para 24 elected representatives) or 9(2)(f) for courts");
                }
            }
            else if (a9.Id.StartsWith("9(2)(g)", StringComparison.Ordinal) && !Schedule1Part2().IsMatch(a9.Id))
            {
                Error(a9.Loc, $"rule '{raw.Id}' relies on 9(2)(g) without naming its DPA 2018 Schedule 1 Part 2 condition (s.10(3)); write e.g. \"9(2)(g) + DPA 2018 Sch 1 Part 2 para 18 (safeguarding)\"");
            }
        }

        if (criminal.Count > 0)
        {
            if (raw.Article10 is not { } a10)
            {
                Error(loc, $"allow rule '{raw.Id}' releases criminal offence data ({string.Join(", ", criminal)}) without an Article 10 authorisation; add lawful_basis.article10 (e.g. \"10(1) + DPA 2018 s.10(5), Sch 1 Part 2 para 10\"), restrict the rule to form: anonymised, or remove those categories");
            }
            else if (!Article10Pattern().IsMatch(a10.Id))
            {
                Error(a10.Loc, $"rule '{raw.Id}': article10 '{a10.Id}' must start with 10 or 10(1), followed by the DPA 2018 condition");
            }
        }
    }

    private CompiledRule[][]? BuildIndex(List<CompiledRule> rules, Loc policyLoc)
    {
        // Country bitsets were sized as rules were compiled; widen them to the final country count so
        // that subset checks compare equal lengths.
        int countryWords = (_countries.Count + 63) >> 6;
        foreach (var rule in rules)
        {
            if (rule.Countries is { } c && c.Length < countryWords)
            {
                var wide = new ulong[countryWords];
                c.CopyTo(wide, 0);
                rule.Countries = wide;
            }
        }

        long cellCount = (long)_purposes.Count * _recipients.Count * _categories.Count;
        long entries = cellCount;
        foreach (var rule in rules)
        {
            entries += (long)Bits.Count(rule.Purposes) * Bits.Count(rule.Recipients) * Bits.Count(rule.Categories);
        }

        if (entries > _options.MaxIndexEntries || cellCount > int.MaxValue / 2)
        {
            Error(policyLoc, $"the policy would need an index of {entries} entries (purposes x recipients x categories, summed over rules), over the limit of {_options.MaxIndexEntries}; use fewer wildcard rules or raise PolicyLoaderOptions.MaxIndexEntries");
            return null;
        }

        int recipientCount = _recipients.Count;
        int categoryCount = _categories.Count;
        var lists = new List<CompiledRule>?[cellCount];

        // Denies first, each group in policy order: evaluation then stops at the first match.
        foreach (bool deny in new[] { true, false })
        {
            foreach (var rule in rules)
            {
                if (rule.IsDeny != deny)
                {
                    continue;
                }

                var cats = Bits.Indexes(rule.Categories);
                var recs = Bits.Indexes(rule.Recipients);
                foreach (int p in Bits.Indexes(rule.Purposes))
                {
                    foreach (int r in recs)
                    {
                        int row = ((p * recipientCount) + r) * categoryCount;
                        foreach (int c in cats)
                        {
                            (lists[row + c] ??= []).Add(rule);
                        }
                    }
                }
            }
        }

        // Many cells hold the same rules (wildcard denies); share one array per distinct list.
        var shared = new Dictionary<string, CompiledRule[]>(StringComparer.Ordinal);
        var cells = new CompiledRule[cellCount][];
        for (long i = 0; i < cellCount; i++)
        {
            var list = lists[i];
            if (list is null)
            {
                cells[i] = [];
                continue;
            }

            string key = string.Join(',', list.Select(static r => r.Order));
            if (!shared.TryGetValue(key, out var array))
            {
                array = [.. list];
                shared[key] = array;
            }

            cells[i] = array;
        }

        return cells;
    }

    private void CheckReachability(List<CompiledRule> rules, CompiledRule[][] cells)
    {
        int recipientCount = _recipients.Count;
        int categoryCount = _categories.Count;
        foreach (var rule in rules)
        {
            if (rule.IsDeny)
            {
                continue;
            }

            // Any rule that covers this one must share every cell with it, so looking in one is enough.
            int p = Bits.First(rule.Purposes), r = Bits.First(rule.Recipients), c = Bits.First(rule.Categories);
            foreach (var other in cells[(((p * recipientCount) + r) * categoryCount) + c])
            {
                if (ReferenceEquals(other, rule) || (!other.IsDeny && other.Order > rule.Order) || !rule.IsCoveredBy(other))
                {
                    continue;
                }

                Error(rule.Loc, other.IsDeny
                    ? $"allow rule '{rule.Id}' can never fire: deny rule '{other.Id}' ({other.Loc}) matches every request it matches, and deny overrides allow; narrow the deny or remove the allow"
                    : $"allow rule '{rule.Id}' can never fire: the earlier allow rule '{other.Id}' ({other.Loc}) matches every request it matches, and the first matching allow decides; remove it or merge the two");
                break;
            }
        }
    }
}
