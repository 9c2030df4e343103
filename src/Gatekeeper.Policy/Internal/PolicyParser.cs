namespace Gatekeeper.Policy.Internal;

/// <summary>
/// Turns one file's YAML tree into <see cref="RawPolicy"/> declarations, reporting shape errors
/// (unknown keys, wrong node kinds, malformed ids) with their positions. Cross-references are the
/// compiler's job, because an id may be defined in another file.
/// </summary>
internal sealed partial class PolicyParser
{
    private static readonly string[] TopKeys = ["policy", "categories", "recipient_classes", "recipients", "purposes", "subject_statuses", "obligations", "rules", "callers"];
    private static readonly string[] HeaderKeys = ["label", "description"];
    private static readonly string[] CategoryKeys = ["class", "description"];
    private static readonly string[] RecipientKeys = ["class", "description", "health_or_social_work", "processor"];
    private static readonly string[] PurposeKeys = ["description", "refuse_only"];
    private static readonly string[] PlainKeys = ["description"];
    private static readonly string[] RuleKeys = ["id", "description", "effect", "categories", "recipients", "recipient_classes", "purposes", "when", "lawful_basis", "obligations", "reason", "source"];
    private static readonly string[] WhenKeys = ["form", "consent", "subject_statuses", "destination", "subject_request", "subject_is_minor"];
    private static readonly string[] StatusKeys = ["any_of", "none_of"];
    private static readonly string[] BasisKeys = ["article6", "article9", "article10", "legislation"];
    private static readonly string[] SelectorKeys = ["all_except"];

    private readonly string _file;
    private readonly RawPolicy _policy;
    private readonly List<PolicyError> _errors;

    private PolicyParser(string file, RawPolicy policy, List<PolicyError> errors)
    {
        _file = file;
        _policy = policy;
        _errors = errors;
    }

    public static void Parse(PolicySource source, RawPolicy policy, List<PolicyError> errors)
    {
        if (source.Root is null || source.Root is YScalar { IsNull: true })
        {
            return;
        }

        new PolicyParser(source.File, policy, errors).ParseRoot(source.Root);
    }

    public static bool IsValidId(string id)
    {
        if (id.Length is 0 or > 64)
        {
            return false;
        }

        foreach (char c in id)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '_'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The closest candidate within a small edit distance, for "did you mean" hints.</summary>
    public static string Suggest(string value, IEnumerable<string> candidates)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var c in candidates)
        {
            int d = Distance(value, c);
            if (d < bestDistance)
            {
                bestDistance = d;
                best = c;
            }
        }

        return best is not null && bestDistance <= Math.Max(2, value.Length / 3) ? $" (did you mean '{best}'?)" : string.Empty;
    }

    private static int Distance(string a, string b)
    {
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
        {
            prev[j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }

            (prev, cur) = (cur, prev);
        }

        return prev[b.Length];
    }

    private void Error(YNode node, string message) => _errors.Add(new PolicyError(_file, node.Line, node.Column, message));

    private Loc At(YNode node) => Loc.Of(_file, node);

    private void ParseRoot(YNode root)
    {
        if (root is not YMapping map)
        {
            Error(root, "a policy file must be a YAML mapping with some of the keys " + string.Join(", ", TopKeys) + $"; found {root.Kind}");
            return;
        }

        foreach (var (key, value) in map.Entries)
        {
            switch (key.Value)
            {
                case "policy":
                    ParseHeader(value);
                    break;
                case "categories":
                    ParseDefinitions(value, "category", CategoryKeys, _policy.Categories);
                    break;
                case "recipient_classes":
                    ParseDefinitions(value, "recipient class", PlainKeys, _policy.RecipientClasses);
                    break;
                case "recipients":
                    ParseDefinitions(value, "recipient", RecipientKeys, _policy.Recipients);
                    break;
                case "purposes":
                    ParseDefinitions(value, "purpose", PurposeKeys, _policy.Purposes);
                    break;
                case "subject_statuses":
                    ParseDefinitions(value, "subject status", PlainKeys, _policy.Statuses);
                    break;
                case "obligations":
                    ParseDefinitions(value, "obligation", PlainKeys, _policy.Obligations);
                    break;
                case "rules":
                    ParseRules(value);
                    break;
                case "callers":
                    ParseCallers(value);
                    break;
                default:
                    UnknownKey(key, "at the top of a policy file", TopKeys);
                    break;
            }
        }
    }

    private void UnknownKey(YScalar key, string where, string[] allowed)
    {
        if (key.Value.StartsWith('\0'))
        {
            return;
        }

        Error(key, $"unknown key '{key.Value}' {where}{Suggest(key.Value, allowed)}; allowed: {string.Join(", ", allowed)}");
    }

    private YMapping? ExpectMapping(YNode node, string what)
    {
        if (node is YMapping m)
        {
            return m;
        }

        Error(node, $"{what} must be a mapping (key: value lines); found {node.Kind}");
        return null;
    }

    private string? ExpectString(YNode node, string what)
    {
        if (node is YScalar s && !s.IsNull)
        {
            return s.Value;
        }

        Error(node, $"{what} must be a single text value; found {(node is YScalar ? "nothing" : node.Kind)}");
        return null;
    }

    private bool? ExpectBool(YNode node, string what)
    {
        if (node is YScalar { IsPlain: true, Value: "true" })
        {
            return true;
        }

        if (node is YScalar { IsPlain: true, Value: "false" })
        {
            return false;
        }

        Error(node, $"{what} must be true or false (unquoted)");
        return null;
    }

    private IdRef? ExpectId(YNode node, string what)
    {
        var value = ExpectString(node, what);
        if (value is null)
        {
            return null;
        }

        if (!IsValidId(value))
        {
            Error(node, $"'{Truncate(value)}' is not a valid {what}: ids are 1-64 characters of a-z, 0-9 and _");
            return null;
        }

        return new IdRef(value, At(node));
    }

    private static string Truncate(string value) => value.Length <= 80 ? value : value[..80] + "...";

    /// <summary>A single id or a list of ids.</summary>
    private List<IdRef> ExpectIdList(YNode node, string what)
    {
        var result = new List<IdRef>();
        if (node is YScalar)
        {
            if (ExpectId(node, what) is { } one)
            {
                result.Add(one);
            }

            return result;
        }

        if (node is not YSequence seq)
        {
            Error(node, $"expected a {what} or a list of them; found {node.Kind}");
            return result;
        }

        foreach (var item in seq.Items)
        {
            if (ExpectId(item, what) is { } id)
            {
                result.Add(id);
            }
        }

        if (seq.Items.Count == 0)
        {
            Error(node, $"empty list of {what}s: a rule with an empty list can never match; list at least one or remove the key");
        }

        return result;
    }

    private void ParseHeader(YNode node)
    {
        if (ExpectMapping(node, "'policy'") is not { } map)
        {
            return;
        }

        foreach (var (key, value) in map.Entries)
        {
            switch (key.Value)
            {
                case "label":
                    var label = ExpectString(value, "'label'");
                    if (label is null)
                    {
                        break;
                    }

                    if (label.Length is 0 or > 64 || !label.All(static c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_'))
                    {
                        Error(value, "'label' must be 1-64 characters of A-Z, a-z, 0-9, '.', '-' and '_' (e.g. 2026-11-22.1); it becomes part of the version");
                        break;
                    }

                    if (_policy.Label is { } existing)
                    {
                        Error(value, $"the policy label is already set at {existing.Loc}; set it in one file only");
                        break;
                    }

                    _policy.Label = new IdRef(label, At(value));
                    break;
                case "description":
                    break;
                default:
                    UnknownKey(key, "in 'policy'", HeaderKeys);
                    break;
            }
        }
    }

    private void ParseDefinitions(YNode node, string kind, string[] keys, List<RawDefinition> into)
    {
        if (ExpectMapping(node, $"the {kind} list") is not { } map)
        {
            return;
        }

        foreach (var (key, value) in map.Entries)
        {
            if (ExpectId(key, kind) is not { } id)
            {
                continue;
            }

            var def = new RawDefinition(id.Id, id.Loc);
            into.Add(def);
            if (value is YScalar s)
            {
                // "id:" alone, or "id: description".
                def.Description = s.IsNull ? string.Empty : s.Value;
                if (kind is "category" or "recipient")
                {
                    Error(value, $"{kind} '{id.Id}' needs a 'class'; write {id.Id}: {{ class: ..., description: ... }}");
                }

                continue;
            }

            if (ExpectMapping(value, $"{kind} '{id.Id}'") is not { } props)
            {
                continue;
            }

            bool hasClass = false;
            foreach (var (pk, pv) in props.Entries)
            {
                switch (pk.Value)
                {
                    case "description" when Array.IndexOf(keys, "description") >= 0:
                        def.Description = ExpectString(pv, "'description'") ?? string.Empty;
                        break;
                    case "class" when kind == "category":
                        hasClass = true;
                        def.Classes.AddRange(ExpectIdList(pv, "data-protection class"));
                        break;
                    case "class" when kind == "recipient":
                        hasClass = true;
                        def.RecipientClass = ExpectId(pv, "recipient class");
                        break;
                    case "health_or_social_work" when kind == "recipient":
                        def.HealthOrSocialWork = ExpectBool(pv, "'health_or_social_work'") ?? false;
                        break;
                    case "processor" when kind == "recipient":
                        def.Processor = ExpectBool(pv, "'processor'") ?? false;
                        break;
                    case "refuse_only" when kind == "purpose":
                        def.RefuseOnly = ExpectBool(pv, "'refuse_only'") ?? false;
                        break;
                    default:
                        UnknownKey(pk, $"in {kind} '{id.Id}'", keys);
                        break;
                }
            }

            if (!hasClass && kind is "category" or "recipient")
            {
                Error(value, $"{kind} '{id.Id}' needs a 'class'");
            }
        }
    }

    private void ParseRules(YNode node)
    {
        if (node is not YSequence seq)
        {
            Error(node, "'rules' must be a list of rules (each starting with '- id: ...'); found " + node.Kind);
            return;
        }

        foreach (var item in seq.Items)
        {
            if (ExpectMapping(item, "a rule") is { } map)
            {
                ParseRule(map);
            }
        }
    }

    private void ParseRule(YMapping map)
    {
        YNode? idNode = null;
        foreach (var (key, value) in map.Entries)
        {
            if (key.Value == "id")
            {
                idNode = value;
            }
        }

        if (idNode is null)
        {
            Error(map, "rule has no 'id'; give every rule a unique id (a-z, 0-9, _) so that answers and audits can name it");
            return;
        }

        if (ExpectId(idNode, "rule id") is not { } id)
        {
            return;
        }

        var rule = new RawRule(id.Id, id.Loc) { Order = _policy.Rules.Count };
        _policy.Rules.Add(rule);
        bool hasReason = false, hasSource = false;
        foreach (var (key, value) in map.Entries)
        {
            switch (key.Value)
            {
                case "id":
                case "description":
                    break;
                case "effect":
                    rule.Effect = ExpectId(value, "effect");
                    break;
                case "categories":
                    rule.Categories = ParseSelector(value, "category");
                    break;
                case "recipients":
                    rule.Recipients = ParseSelector(value, "recipient");
                    break;
                case "recipient_classes":
                    rule.RecipientClasses = ExpectIdList(value, "recipient class");
                    break;
                case "purposes":
                    rule.Purposes = ParseSelector(value, "purpose");
                    break;
                case "when":
                    ParseWhen(rule, value);
                    break;
                case "lawful_basis":
                    ParseBasis(rule, value);
                    break;
                case "obligations":
                    rule.Obligations.AddRange(ExpectIdList(value, "obligation"));
                    break;
                case "reason":
                    hasReason = true;
                    rule.Reason = ExpectString(value, "'reason'") ?? string.Empty;
                    break;
                case "source":
                    hasSource = true;
                    rule.Source = ExpectString(value, "'source'") ?? string.Empty;
                    break;
                default:
                    UnknownKey(key, $"in rule '{rule.Id}'", RuleKeys);
                    break;
            }
        }

        if (!hasReason)
        {
            Error(map, $"rule '{rule.Id}' has no 'reason'; add a sentence a caseworker can read, it is returned with every answer");
        }

        if (!hasSource)
        {
            Error(map, $"rule '{rule.Id}' has no 'source'; cite the privacy-notice sentence or the law the rule comes from");
        }

        if (rule.Effect is null)
        {
            Error(map, $"rule '{rule.Id}' has no 'effect'; write effect: allow or effect: deny");
        }

        if (rule.Categories is null)
        {
            Error(map, $"rule '{rule.Id}' has no 'categories'; list them, or write categories: '*' for all");
        }

        if (rule.Purposes is null)
        {
            Error(map, $"rule '{rule.Id}' has no 'purposes'; list them, or write purposes: '*' for all");
        }

        if (rule.Recipients is null && rule.RecipientClasses is null)
        {
            Error(map, $"rule '{rule.Id}' names no recipients; add 'recipients' and/or 'recipient_classes' (recipients: '*' for all)");
        }
    }

    private RawSelector? ParseSelector(YNode node, string what)
    {
        var selector = new RawSelector(At(node));
        switch (node)
        {
            case YScalar { Value: "*" }:
                selector.All = true;
                break;
            case YMapping map:
                selector.All = true;
                bool hasExcept = false;
                foreach (var (key, value) in map.Entries)
                {
                    if (key.Value == "all_except")
                    {
                        hasExcept = true;
                        selector.Except.AddRange(ExpectIdList(value, what));
                    }
                    else
                    {
                        UnknownKey(key, $"in a {what} selector", SelectorKeys);
                    }
                }

                if (!hasExcept)
                {
                    Error(node, $"a {what} selector mapping needs 'all_except: [...]'");
                    return null;
                }

                break;
            default:
                selector.Ids.AddRange(ExpectIdList(node, what));
                break;
        }

        return selector;
    }

    private void ParseWhen(RawRule rule, YNode node)
    {
        if (ExpectMapping(node, "'when'") is not { } map)
        {
            return;
        }

        foreach (var (key, value) in map.Entries)
        {
            switch (key.Value)
            {
                case "form":
                    rule.Form = ExpectIdList(value, "form");
                    break;
                case "consent":
                    rule.Consent = ExpectIdList(value, "consent value");
                    break;
                case "subject_statuses":
                    if (ExpectMapping(value, "'subject_statuses'") is { } statuses)
                    {
                        foreach (var (sk, sv) in statuses.Entries)
                        {
                            switch (sk.Value)
                            {
                                case "any_of":
                                    rule.StatusAnyOf = ExpectIdList(sv, "subject status");
                                    break;
                                case "none_of":
                                    rule.StatusNoneOf = ExpectIdList(sv, "subject status");
                                    break;
                                default:
                                    UnknownKey(sk, "in 'subject_statuses'", StatusKeys);
                                    break;
                            }
                        }
                    }

                    break;
                case "destination":
                    ParseDestination(rule, value);
                    break;
                case "subject_request":
                    rule.SubjectRequest = ExpectBool(value, "'subject_request'");
                    break;
                case "subject_is_minor":
                    // true/false are YAML booleans but we read them as the names of the three states.
                    rule.SubjectIsMinor = ExpectIdList(value, "subject_is_minor value");
                    break;
                default:
                    UnknownKey(key, $"in 'when' of rule '{rule.Id}'", WhenKeys);
                    break;
            }
        }
    }

    private void ParseDestination(RawRule rule, YNode node)
    {
        rule.DestinationLoc = At(node);
        switch (node)
        {
            case YScalar { Value: "uk" }:
                rule.Destination = DestinationKind.Uk;
                break;
            case YScalar { Value: "abroad" }:
                rule.Destination = DestinationKind.Abroad;
                break;
            case YScalar { Value: "any" }:
                rule.Destination = DestinationKind.Any;
                break;
            case YSequence seq when seq.Items.Count > 0:
                rule.Destination = DestinationKind.Countries;
                foreach (var item in seq.Items)
                {
                    var code = ExpectString(item, "a country code");
                    if (code is null)
                    {
                        continue;
                    }

                    if (code.Length != 2 || !char.IsAsciiLetterUpper(code[0]) || !char.IsAsciiLetterUpper(code[1]))
                    {
                        Error(item, $"'{Truncate(code)}' is not an ISO 3166-1 alpha-2 country code; write two upper-case letters such as IE or FR (GB is the UK)");
                        continue;
                    }

                    rule.Countries.Add(new IdRef(code, At(item)));
                }

                break;
            default:
                Error(node, "'destination' must be uk, abroad, any, or a non-empty list of ISO 3166-1 alpha-2 country codes such as [IE, FR]");
                break;
        }
    }

    private void ParseBasis(RawRule rule, YNode node)
    {
        if (ExpectMapping(node, "'lawful_basis'") is not { } map)
        {
            return;
        }

        rule.LawfulBasisLoc = At(node);
        foreach (var (key, value) in map.Entries)
        {
            switch (key.Value)
            {
                case "article6":
                    rule.Article6 = ExpectText(value, "'article6'");
                    break;
                case "article9":
                    rule.Article9 = ExpectText(value, "'article9'");
                    break;
                case "article10":
                    rule.Article10 = ExpectText(value, "'article10'");
                    break;
                case "legislation":
                    if (value is YSequence seq)
                    {
                        foreach (var item in seq.Items)
                        {
                            if (ExpectString(item, "an item of 'legislation'") is { } law)
                            {
                                rule.Legislation.Add(law);
                            }
                        }
                    }
                    else if (ExpectString(value, "'legislation'") is { } law)
                    {
                        rule.Legislation.Add(law);
                    }

                    break;
                default:
                    UnknownKey(key, $"in 'lawful_basis' of rule '{rule.Id}'", BasisKeys);
                    break;
            }
        }
    }

    private IdRef? ExpectText(YNode node, string what) => ExpectString(node, what) is { } text ? new IdRef(text, At(node)) : null;
}
