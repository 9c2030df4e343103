using Gatekeeper.Policy.Tests.Support;

namespace Gatekeeper.Policy.Tests;

/// <summary>Every kind of error the validator reports, each with its position and advice.</summary>
public sealed class ValidatorTests : IDisposable
{
    private const string Header = "rules:\n";

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static string Rule(string id, string body) => $"  - id: {id}\n    reason: r\n    source: s\n{body}\n";

    private static string Allow(string id, string categories, string recipients, string purposes, string extra = "", string basis = "lawful_basis: { article6: \"6(1)(e)\" }") =>
        Rule(id, $"    effect: allow\n    categories: {categories}\n    recipients: {recipients}\n    purposes: {purposes}\n    {basis}\n    {extra}");

    private IReadOnlyList<PolicyError> Errors(string rules) => TestPolicies.Errors(_folder, Header + rules);

    private static PolicyError Single(IReadOnlyList<PolicyError> errors, string fragment)
    {
        var matching = errors.Where(e => e.Message.Contains(fragment, StringComparison.Ordinal)).ToList();
        Assert.True(matching.Count == 1, $"expected one error containing '{fragment}', got:{Environment.NewLine}{string.Join(Environment.NewLine, errors)}");
        return matching[0];
    }

    [Fact]
    public void Load_UnknownIdsInRule_EachReportedAtItsPositionWithSuggestion()
    {
        var errors = Errors(Allow("a", "[contcat, health]", "[gp, polise]", "[care, reserch]", "obligations: [minimse]", "lawful_basis: { article6: \"6(1)(e)\", article9: \"9(2)(h)\" }")
            + "    recipient_classes: [carers]\n");

        var category = Single(errors, "unknown category 'contcat' (did you mean 'contact'?)");
        Assert.EndsWith("rules.yaml", category.File, StringComparison.Ordinal);
        Assert.Equal(6, category.Line);
        Assert.Equal(18, category.Column);
        Single(errors, "unknown recipient 'polise' (did you mean 'police'?)");
        Single(errors, "unknown purpose 'reserch' (did you mean 'research'?)");
        Single(errors, "unknown obligation 'minimse' (did you mean 'minimise'?)");
        Single(errors, "unknown recipient class 'carers' (did you mean 'care'?)");
        Assert.Contains("define it under 'categories:'", category.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_UnknownStatusAndConditionValues_Reported()
    {
        var errors = Errors(Allow("a", "[contact]", "[gp]", "[care]", "when: { form: [anonymized], consent: [yes], subject_is_minor: [maybe], subject_statuses: { any_of: [cared_for] } }"));

        Single(errors, "'anonymized' is not a form (data form) (did you mean 'anonymised'?)");
        Single(errors, "'yes' is not a consent value");
        Single(errors, "'maybe' is not a subject_is_minor value");
        Single(errors, "unknown subject status 'cared_for'");
    }

    [Fact]
    public void Load_DuplicateRuleIds_ReportedWithFirstPosition()
    {
        var errors = Errors(Allow("a", "[contact]", "[gp]", "[care]") + Allow("a", "[contact]", "[police]", "[care]"));

        var e = Single(errors, "duplicate rule id 'a' (first at rules.yaml:2:9)");
        Assert.Equal(11, e.Line);
    }

    [Fact]
    public void Load_DuplicateDefinitionAcrossFiles_Reported()
    {
        _folder.Write("extra.yaml", "categories:\n  contact: { class: personal }\n");

        var errors = Errors(Allow("a", "[contact]", "[gp]", "[care]"));

        Single(errors, "category 'contact' is defined twice (first at extra.yaml:2:3)");
    }

    [Fact]
    public void Load_AllowWithoutArticle6_MissingLawfulBasis()
    {
        var errors = Errors(Allow("a", "[contact]", "[gp]", "[care]", basis: string.Empty));

        Single(errors, "allow rule 'a' has no lawful_basis.article6");
    }

    [Fact]
    public void Load_MalformedArticles_Reported()
    {
        var errors = Errors(Allow("a", "[case]", "[gp]", "[care]", basis: "lawful_basis: { article6: \"public task\", article9: \"h\", article10: \"para 1\" }"));

        Single(errors, "article6 'public task' must start with an Article 6(1) point");
        Single(errors, "article9 'h' must start with an Article 9(2) point");
        Single(errors, "article10 'para 1' must start with 10");
    }

    [Fact]
    public void Load_SpecialCategoryAllowedWithoutArticle9_Rejected()
    {
        var errors = Errors(Allow("a", "[contact, health]", "[gp]", "[care]"));

        Single(errors, "allow rule 'a' releases special category data (health) without an Article 9 condition");
    }

    [Fact]
    public void Load_CriminalOffenceAllowedWithoutArticle10_Rejected()
    {
        var errors = Errors(Allow("a", "[offence, case]", "[gp]", "[care]", basis: "lawful_basis: { article6: \"6(1)(e)\", article9: \"9(2)(h)\" }"));

        Single(errors, "releases criminal offence data (offence, case) without an Article 10 authorisation");
    }

    [Fact]
    public void Load_SpecialCategoryAnonymisedOnly_NeedsNoArticle9()
    {
        _folder.Write("vocabulary.yaml", TestPolicies.Vocabulary);
        _folder.Write("rules.yaml", Header + Allow("a", "'*'", "[police]", "[research]", "when: { form: anonymised }"));

        var result = PolicyLoader.LoadPath(_folder.Path);

        Assert.True(result.IsValid, string.Join(Environment.NewLine, result.Errors));
    }

    [Fact]
    public void Load_Article9hToNonProfessional_RejectedPerDpaSection11()
    {
        var errors = Errors(Allow("a", "[health]", "[gp, police]", "[care]", basis: "lawful_basis: { article6: \"6(1)(e)\", article9: \"9(2)(h)\" }"));

        var e = Single(errors, "relies on 9(2)(h), which DPA 2018 s.11(1) limits");
        Assert.Contains("recipients police are not marked health_or_social_work", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_Article9gWithoutSchedule1Condition_Rejected()
    {
        var errors = Errors(Allow("a", "[health]", "[police]", "[care]", basis: "lawful_basis: { article6: \"6(1)(e)\", article9: \"9(2)(g) substantial public interest\" }"));

        Single(errors, "relies on 9(2)(g) without naming its DPA 2018 Schedule 1 Part 2 condition");
    }

    [Fact]
    public void Load_AllowShadowedByDeny_Rejected()
    {
        var errors = Errors(
            Rule("d", "    effect: deny\n    categories: '*'\n    recipients: [police]\n    purposes: '*'")
            + Allow("a", "[contact]", "[police]", "[care]", "when: { subject_request: true }"));

        var e = Single(errors, "allow rule 'a' can never fire: deny rule 'd' (rules.yaml:2:9) matches every request it matches");
        Assert.Equal(9, e.Line);
    }

    [Fact]
    public void Load_AllowOverlappingDenyPartly_IsValid()
    {
        _folder.Write("vocabulary.yaml", TestPolicies.Vocabulary);
        _folder.Write("rules.yaml", Header
            + Rule("d", "    effect: deny\n    categories: '*'\n    recipients: [police]\n    purposes: '*'\n    when: { destination: abroad }")
            + Allow("a", "[contact]", "[police]", "[care]", "when: { destination: [FR, GB] }"));

        var result = PolicyLoader.LoadPath(_folder.Path);

        Assert.True(result.IsValid, string.Join(Environment.NewLine, result.Errors));
    }

    [Fact]
    public void Load_AllowCoveredByCountryListDeny_Rejected()
    {
        var errors = Errors(
            Rule("d", "    effect: deny\n    categories: '*'\n    recipients: [police]\n    purposes: '*'\n    when: { destination: [FR, IE, DE] }")
            + Allow("a", "[contact]", "[police]", "[care]", "when: { destination: [IE, FR] }"));

        Single(errors, "allow rule 'a' can never fire: deny rule 'd'");
    }

    [Fact]
    public void Load_AllowCoveredByEarlierAllow_Unreachable()
    {
        var errors = Errors(
            Allow("wide", "[contact]", "[gp, police]", "[care, research]")
            + Allow("narrow", "[contact]", "[gp]", "[care]", "when: { consent: [given] }"));

        Single(errors, "allow rule 'narrow' can never fire: the earlier allow rule 'wide'");
    }

    [Fact]
    public void Load_StatusShadowing_FollowsSetSemantics()
    {
        // Deny "none of [looked_after]" does not cover allow "any of [looked_after]": they are disjoint.
        _folder.Write("vocabulary.yaml", TestPolicies.Vocabulary);
        _folder.Write("rules.yaml", Header
            + Rule("d", "    effect: deny\n    categories: '*'\n    recipients: [gp]\n    purposes: '*'\n    when: { subject_statuses: { none_of: [looked_after] } }")
            + Allow("a", "[contact]", "[gp]", "[care]", "when: { subject_statuses: { any_of: [looked_after] } }"));
        Assert.True(PolicyLoader.LoadPath(_folder.Path).IsValid);

        // Deny "any of [looked_after, in_need]" covers allow "any of [in_need]".
        var errors = Errors(
            Rule("d", "    effect: deny\n    categories: '*'\n    recipients: [gp]\n    purposes: '*'\n    when: { subject_statuses: { any_of: [looked_after, in_need] } }")
            + Allow("a", "[contact]", "[gp]", "[care]", "when: { subject_statuses: { any_of: [in_need] } }"));
        Single(errors, "can never fire");
    }

    [Fact]
    public void Load_UnsatisfiableRules_Reported()
    {
        var errors = Errors(
            Allow("a", "{ all_except: [contact, health, offence, case] }", "[gp]", "[care]")
            + Allow("b", "[contact]", "[gp]", "[care]", "when: { subject_statuses: { any_of: [in_need], none_of: [in_need] } }"));

        Single(errors, "rule 'a' can never match: it selects no categories");
        Single(errors, "rule 'b' can never match: every status in subject_statuses.any_of is also in none_of");
    }

    [Fact]
    public void Load_AllowNamingRefuseOnlyPurpose_Rejected()
    {
        var errors = Errors(Allow("a", "[contact]", "[gp]", "[sell]") + Allow("b", "[contact]", "[police]", "'*'"));

        Single(errors, "allow rule 'a' covers purpose 'sell', which the policy marks refuse_only");
        Single(errors, "allow rule 'b' covers purpose 'sell'");
    }

    [Fact]
    public void Load_ObligationsOnDenyAndConditionsWithoutObligations_Rejected()
    {
        var errors = Errors(
            Rule("d", "    effect: deny\n    categories: '*'\n    recipients: [press]\n    purposes: '*'\n    obligations: [record]")
            + Rule("a", "    effect: allow_with_conditions\n    categories: [contact]\n    recipients: [gp]\n    purposes: [care]\n    lawful_basis: { article6: \"6(1)(e)\" }"));

        Single(errors, "deny rule 'd' has obligations");
        Single(errors, "rule 'a' is allow_with_conditions but lists no obligations");
    }

    [Fact]
    public void Load_MissingRequiredFieldsAndBadEffect_Reported()
    {
        var errors = Errors("  - id: a\n    effect: permit\n  - effect: allow\n");

        Single(errors, "rule 'a' has no 'reason'");
        Single(errors, "rule 'a' has no 'source'");
        Single(errors, "rule 'a' has no 'categories'");
        Single(errors, "rule 'a' has no 'purposes'");
        Single(errors, "rule 'a' names no recipients");
        Single(errors, "effect 'permit' is not allow, deny or allow_with_conditions");
        Single(errors, "rule has no 'id'");
    }

    [Fact]
    public void Load_UnknownKeysAndWrongShapes_Reported()
    {
        var errors = Errors(Allow("a", "[contact]", "[gp]", "[care]", "obligation: [record]\n    when: { destinaton: uk }") + "  - just a string\n");

        Single(errors, "unknown key 'obligation' in rule 'a' (did you mean 'obligations'?)");
        Single(errors, "unknown key 'destinaton' in 'when' of rule 'a' (did you mean 'destination'?)");
        Single(errors, "a rule must be a mapping");
    }

    [Fact]
    public void Load_InvalidIdsCountriesAndLabel_Reported()
    {
        var errors = Errors("  - id: Bad-Id\n    effect: allow\n"
            + Allow("a", "[contact]", "[gp]", "[care]", "when: { destination: [fr, GBR] }")
            + "policy:\n  label: 'not ok!'\n");

        Single(errors, "'Bad-Id' is not a valid rule id");
        Single(errors, "'fr' is not an ISO 3166-1 alpha-2 country code");
        Single(errors, "'GBR' is not an ISO 3166-1 alpha-2 country code");
        Single(errors, "'label' must be 1-64 characters");
    }

    [Fact]
    public void Load_VocabularyErrors_Reported()
    {
        _folder.Write("more.yaml", """
            categories:
              dna: { class: biometric }
              plain: just a description
            recipients:
              bank: { class: finance }
            subject_statuses:
              UPPER:
            """);

        var errors = Errors(Allow("a", "[contact]", "[gp]", "[care]"));

        Single(errors, "unknown data-protection class 'biometric'");
        Single(errors, "category 'plain' needs a 'class'");
        Single(errors, "recipient 'bank' has unknown class 'finance'");
        Single(errors, "'UPPER' is not a valid subject status");
    }

    [Fact]
    public void Load_PolicyWithoutRules_Rejected()
    {
        _folder.Write("vocabulary.yaml", TestPolicies.Vocabulary);

        var result = PolicyLoader.LoadPath(_folder.Path);

        Assert.Contains(result.Errors, e => e.Message.StartsWith("the policy has no rules", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_IndexOverLimit_RejectedWithAdvice()
    {
        var errors = TestPolicies.Errors(_folder, Header + Allow("a", "[contact]", "[gp]", "[care]"), new PolicyLoaderOptions { MaxIndexEntries = 10 });

        Single(errors, "over the limit of 10");
    }

    [Fact]
    public void Load_ManyErrors_AllReportedSortedByPosition()
    {
        var errors = Errors(Allow("a", "[x1]", "[x2]", "[x3]") + Allow("b", "[x4]", "[x5]", "[x6]"));

        Assert.Equal(6, errors.Count);
        Assert.Equal(errors.OrderBy(e => e.Line).ThenBy(e => e.Column).ToList(), errors);
        Assert.Matches(@"rules\.yaml:\d+:\d+: rule 'a': unknown category 'x1'", errors[0].ToString());
    }
}
