namespace Gatekeeper.Policy.Tests.Support;

/// <summary>A small policy, written to real files, that the engine tests build on.</summary>
internal static class TestPolicies
{
    public const string Vocabulary = """
        categories:
          contact: { class: personal }
          health: { class: special_category }
          offence: { class: criminal_offence }
          case: { class: [special_category, criminal_offence] }
        recipient_classes:
          care: { description: carers }
          other: { description: everyone else }
        recipients:
          gp: { class: care, health_or_social_work: true }
          nurse: { class: care, health_or_social_work: true }
          police: { class: other }
          press: { class: other }
        purposes:
          care: { description: care }
          research: { description: research }
          sell: { refuse_only: true }
        subject_statuses:
          looked_after:
          in_need:
        obligations:
          minimise:
          record:
        """;

    /// <summary>Rules used by the evaluator tests: each exercises one feature.</summary>
    public const string Rules = """
        policy:
          label: test.1
        rules:
          - id: deny_press
            effect: deny
            categories: '*'
            recipients: [press]
            purposes: '*'
            reason: never the press
            source: test
          - id: contact_to_carers
            effect: allow
            categories: [contact]
            recipient_classes: [care]
            purposes: [care]
            lawful_basis: { article6: "6(1)(e)" }
            reason: carers get contacts
            source: test
          - id: health_to_gp
            effect: allow
            categories: [health]
            recipients: [gp]
            purposes: [care]
            when: { consent: [given, unknown], subject_statuses: { any_of: [looked_after], none_of: [in_need] } }
            lawful_basis: { article6: "6(1)(e)", article9: "9(2)(h)", legislation: [Care Act 2014] }
            obligations: [minimise, record]
            reason: gp gets health
            source: test
          - id: contact_to_police_uk
            effect: allow
            categories: [contact]
            recipients: [police]
            purposes: [care]
            when: { destination: uk, subject_request: true, subject_is_minor: [false] }
            lawful_basis: { article6: "6(1)(e)" }
            obligations: [record]
            reason: police get contacts
            source: test
          - id: contact_to_police_ie_fr
            effect: allow
            categories: [contact]
            recipients: [police]
            purposes: [care]
            when: { destination: [IE, FR], subject_request: true }
            lawful_basis: { article6: "6(1)(e)" }
            reason: police abroad
            source: test
          - id: research_anonymised
            effect: allow
            categories: '*'
            recipients: { all_except: [press] }
            purposes: [research]
            when: { form: anonymised }
            lawful_basis: { article6: "6(1)(e)" }
            reason: anonymised research
            source: test
          - id: research_anything_from_nurse
            effect: allow
            categories: [contact]
            recipients: [nurse]
            purposes: [research]
            lawful_basis: { article6: "6(1)(e)" }
            reason: nurse research contacts, any form (overlaps research_anonymised, which comes first)
            source: test
          - id: deny_research_minors
            effect: deny
            categories: '*'
            recipients: '*'
            purposes: [research]
            when: { subject_is_minor: true }
            reason: no research on children
            source: test
        """;

    public static CompiledPolicy Load(TempFolder folder, string rules = Rules)
    {
        folder.Write("vocabulary.yaml", Vocabulary);
        folder.Write("rules.yaml", rules);
        var result = PolicyLoader.LoadPath(folder.Path);
        Assert.True(result.IsValid, string.Join(Environment.NewLine, result.Errors));
        return result.Policy!;
    }

    /// <summary>Loads vocabulary + the given rules and returns the errors (asserting there are some).</summary>
    public static IReadOnlyList<PolicyError> Errors(TempFolder folder, string rules, PolicyLoaderOptions? options = null)
    {
        folder.Write("vocabulary.yaml", Vocabulary);
        folder.Write("rules.yaml", rules);
        var result = PolicyLoader.LoadPath(folder.Path, options ?? PolicyLoaderOptions.Default);
        Assert.False(result.IsValid);
        Assert.Null(result.Policy);
        Assert.NotEmpty(result.Errors);
        return result.Errors;
    }
}
