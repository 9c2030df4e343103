namespace Gatekeeper.Policy.Internal;

/// <summary>One case of a *.tests.yaml file: a request and the answer the policy must give.</summary>
internal sealed class PolicyTestCase
{
    public PolicyTestCase(string name, Loc loc, PolicyQuery query, PolicyEffect decision, string rule, List<string>? obligations, List<int> seeds)
    {
        Name = name;
        Loc = loc;
        Query = query;
        Decision = decision;
        Rule = rule;
        Obligations = obligations;
        Seeds = seeds;
    }

    public string Name { get; }

    public Loc Loc { get; }

    public PolicyQuery Query { get; }

    public PolicyEffect Decision { get; }

    public string Rule { get; }

    /// <summary>Expected obligations (order ignored), or null when the case does not check them.</summary>
    public List<string>? Obligations { get; }

    public List<int> Seeds { get; }
}

internal sealed class PolicyTestReport
{
    public int Passed { get; set; }

    public int Failed { get; set; }

    public List<string> UncoveredRules { get; } = [];

    public List<int> SeedsWithoutAllow { get; } = [];

    public List<int> SeedsWithoutDeny { get; } = [];
}

/// <summary>Reads and runs policy test files (format documented in policies/README.md).</summary>
internal static class PolicyTestRunner
{
    private static readonly string[] CaseKeys = ["name", "seeds", "request", "expect"];
    private static readonly string[] RequestKeys = ["category", "recipient", "purpose", "form", "consent", "subject_statuses", "destination_country", "subject_request", "subject_is_minor"];
    private static readonly string[] ExpectKeys = ["decision", "rule", "obligations"];
    private static readonly string[] Decisions = ["allow", "allow_with_conditions", "deny"];

    public static List<string> FindTestFiles(string path)
    {
        var files = new List<string>();
        if (Directory.Exists(path))
        {
            files.AddRange(Directory.EnumerateFiles(path, "*" + PolicyLoader.TestFileSuffix, SearchOption.TopDirectoryOnly));
        }
        else if (File.Exists(path))
        {
            // A single policy file "x.yaml" is tested by "x.tests.yaml" beside it.
            string sibling = System.IO.Path.ChangeExtension(path, null) + PolicyLoader.TestFileSuffix;
            if (File.Exists(sibling))
            {
                files.Add(sibling);
            }
        }

        files.Sort(StringComparer.Ordinal);
        return files;
    }

    public static List<PolicyTestCase> Parse(string file, PolicyLoaderOptions options, List<PolicyError> errors)
    {
        var cases = new List<PolicyTestCase>();
        var sources = new List<PolicySource>();
        var fileErrors = new List<PolicyError>();
        var read = PolicySources.Read(file, options, fileErrors);
        errors.AddRange(fileErrors);
        if (fileErrors.Count > 0 || read.Count == 0 || read[0].Root is not { } root)
        {
            return cases;
        }

        if (root is not YMapping map || map.Entries.Count != 1 || map.Entries[0].Key.Value != "tests" || map.Entries[0].Value is not YSequence list)
        {
            errors.Add(Loc.Of(file, root).Error("a test file is a mapping with one key, 'tests', holding a list of cases"));
            return cases;
        }

        foreach (var item in list.Items)
        {
            if (ParseCase(file, item, errors) is { } c)
            {
                cases.Add(c);
            }
        }

        return cases;
    }

    private static PolicyTestCase? ParseCase(string file, YNode node, List<PolicyError> errors)
    {
        var loc = Loc.Of(file, node);
        if (node is not YMapping map)
        {
            errors.Add(loc.Error("a test case must be a mapping with name, request and expect"));
            return null;
        }

        int before = errors.Count;
        string name = string.Empty;
        var seeds = new List<int>();
        YMapping? request = null, expect = null;
        foreach (var (key, value) in map.Entries)
        {
            switch (key.Value)
            {
                case "name":
                    name = Text(file, value, errors, "name");
                    break;
                case "seeds":
                    foreach (var s in value is YSequence seq ? seq.Items : [value])
                    {
                        if (s is YScalar sc && int.TryParse(sc.Value, System.Globalization.CultureInfo.InvariantCulture, out int n))
                        {
                            seeds.Add(n);
                        }
                        else
                        {
                            errors.Add(Loc.Of(file, s).Error("'seeds' lists seed statement numbers, e.g. [5, 6]"));
                        }
                    }

                    break;
                case "request":
                    request = value as YMapping;
                    break;
                case "expect":
                    expect = value as YMapping;
                    break;
                default:
                    errors.Add(Loc.Of(file, key).Error($"unknown key '{key.Value}' in a test case{PolicyParser.Suggest(key.Value, CaseKeys)}; allowed: {string.Join(", ", CaseKeys)}"));
                    break;
            }
        }

        if (name.Length == 0 || request is null || expect is null)
        {
            errors.Add(loc.Error("a test case needs 'name', 'request' (a mapping) and 'expect' (a mapping)"));
            return null;
        }

        string category = string.Empty, recipient = string.Empty, purpose = string.Empty, destination = string.Empty;
        var form = DataForm.Identifiable;
        var consent = Consent.Unknown;
        var statuses = new List<string>();
        bool subjectRequest = false;
        bool? minor = null;
        foreach (var (key, value) in request.Entries)
        {
            switch (key.Value)
            {
                case "category":
                    category = Text(file, value, errors, "category");
                    break;
                case "recipient":
                    recipient = Text(file, value, errors, "recipient");
                    break;
                case "purpose":
                    purpose = Text(file, value, errors, "purpose");
                    break;
                case "form":
                    form = (DataForm)Choice(file, value, errors, ContextBits.FormNames, "form");
                    break;
                case "consent":
                    consent = (Consent)Choice(file, value, errors, ContextBits.ConsentNames, "consent");
                    break;
                case "subject_statuses":
                    foreach (var s in value is YSequence seq ? seq.Items : [value])
                    {
                        statuses.Add(Text(file, s, errors, "subject status"));
                    }

                    break;
                case "destination_country":
                    destination = value is YScalar { IsNull: true } ? string.Empty : Text(file, value, errors, "destination_country");
                    break;
                case "subject_request":
                    subjectRequest = Choice(file, value, errors, ["false", "true"], "subject_request") == 1;
                    break;
                case "subject_is_minor":
                    minor = Choice(file, value, errors, ContextBits.MinorNames, "subject_is_minor") switch
                    {
                        0 => false,
                        1 => true,
                        _ => null,
                    };
                    break;
                default:
                    errors.Add(Loc.Of(file, key).Error($"unknown key '{key.Value}' in a request{PolicyParser.Suggest(key.Value, RequestKeys)}; allowed: {string.Join(", ", RequestKeys)}"));
                    break;
            }
        }

        PolicyEffect decision = PolicyEffect.Deny;
        string rule = string.Empty;
        List<string>? obligations = null;
        bool hasDecision = false;
        foreach (var (key, value) in expect.Entries)
        {
            switch (key.Value)
            {
                case "decision":
                    hasDecision = true;
                    decision = Choice(file, value, errors, Decisions, "decision") switch
                    {
                        0 => PolicyEffect.Allow,
                        1 => PolicyEffect.AllowWithConditions,
                        _ => PolicyEffect.Deny,
                    };
                    break;
                case "rule":
                    rule = Text(file, value, errors, "rule");
                    break;
                case "obligations":
                    obligations = [];
                    if (value is YSequence seq)
                    {
                        foreach (var o in seq.Items)
                        {
                            obligations.Add(Text(file, o, errors, "obligation"));
                        }
                    }
                    else if (value is not YScalar { IsNull: true })
                    {
                        obligations.Add(Text(file, value, errors, "obligation"));
                    }

                    break;
                default:
                    errors.Add(Loc.Of(file, key).Error($"unknown key '{key.Value}' in 'expect'{PolicyParser.Suggest(key.Value, ExpectKeys)}; allowed: {string.Join(", ", ExpectKeys)}"));
                    break;
            }
        }

        if (!hasDecision || rule.Length == 0)
        {
            errors.Add(Loc.Of(file, expect).Error("'expect' needs 'decision' and 'rule' (the rule id, or no_matching_rule / unknown_category / unknown_recipient / unknown_purpose)"));
        }

        if (errors.Count > before)
        {
            return null;
        }

        var query = new PolicyQuery(category, recipient, purpose, form, consent, statuses, destination, subjectRequest, minor);
        return new PolicyTestCase(name, loc, query, decision, rule, obligations, seeds);
    }

    private static string Text(string file, YNode node, List<PolicyError> errors, string what)
    {
        if (node is YScalar s)
        {
            return s.Value;
        }

        errors.Add(Loc.Of(file, node).Error($"'{what}' must be a single value"));
        return string.Empty;
    }

    private static int Choice(string file, YNode node, List<PolicyError> errors, string[] names, string what)
    {
        if (node is YScalar s && Array.IndexOf(names, s.Value) is int i and >= 0)
        {
            return i;
        }

        errors.Add(Loc.Of(file, node).Error($"'{what}' must be one of {string.Join(", ", names)}"));
        return 0;
    }

    public static string DecisionName(PolicyEffect effect) => effect switch
    {
        PolicyEffect.Allow => "allow",
        PolicyEffect.AllowWithConditions => "allow_with_conditions",
        _ => "deny",
    };

    public static PolicyTestReport Run(CompiledPolicy policy, IReadOnlyList<PolicyTestCase> cases, TextWriter output)
    {
        var report = new PolicyTestReport();
        var decidedRules = new HashSet<string>(StringComparer.Ordinal);
        var seedAllow = new HashSet<int>();
        var seedDeny = new HashSet<int>();
        var allSeeds = new SortedSet<int>();
        foreach (var c in cases)
        {
            var outcome = policy.Evaluate(c.Query);
            var diff = new List<string>();
            if (outcome.Effect != c.Decision)
            {
                diff.Add($"    decision:    expected {DecisionName(c.Decision)}, got {DecisionName(outcome.Effect)}");
            }

            if (outcome.RuleId != c.Rule)
            {
                diff.Add($"    rule:        expected {c.Rule}, got {outcome.RuleId}");
            }

            if (c.Obligations is { } expected)
            {
                var missing = expected.Where(o => !outcome.Obligations.Contains(o)).ToList();
                var extra = outcome.Obligations.Where(o => !expected.Contains(o)).ToList();
                if (missing.Count > 0 || extra.Count > 0)
                {
                    diff.Add($"    obligations: expected [{string.Join(", ", expected)}], got [{string.Join(", ", outcome.Obligations)}]"
                        + (missing.Count > 0 ? $" (missing {string.Join(", ", missing)})" : string.Empty)
                        + (extra.Count > 0 ? $" (unexpected {string.Join(", ", extra)})" : string.Empty));
                }
            }

            if (diff.Count == 0)
            {
                report.Passed++;
                decidedRules.Add(outcome.RuleId);
                foreach (int s in c.Seeds)
                {
                    (outcome.IsAllowed ? seedAllow : seedDeny).Add(s);
                }

                output.WriteLine($"PASS {c.Loc} {c.Name}");
            }
            else
            {
                report.Failed++;
                output.WriteLine($"FAIL {c.Loc} {c.Name}");
                foreach (var line in diff)
                {
                    output.WriteLine(line);
                }

                var trace = new List<string>();
                policy.Explain(c.Query, trace);
                foreach (var line in trace)
                {
                    output.WriteLine("      | " + line);
                }
            }

            allSeeds.UnionWith(c.Seeds);
        }

        foreach (var id in policy.RuleIds)
        {
            if (!decidedRules.Contains(id))
            {
                report.UncoveredRules.Add(id);
            }
        }

        foreach (int s in allSeeds)
        {
            if (!seedAllow.Contains(s))
            {
                report.SeedsWithoutAllow.Add(s);
            }

            if (!seedDeny.Contains(s))
            {
                report.SeedsWithoutDeny.Add(s);
            }
        }

        return report;
    }
}
