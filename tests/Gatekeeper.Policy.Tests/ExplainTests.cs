using Gatekeeper.Policy.Tests.Support;

namespace Gatekeeper.Policy.Tests;

public sealed class ExplainTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly CompiledPolicy _policy;

    public ExplainTests()
    {
        _policy = TestPolicies.Load(_folder);
    }

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Explain_OneLinePerCandidateRule_SaysWhyEachMatchedOrNot()
    {
        var lines = new List<string>();
        var q = new PolicyQuery("contact", "nurse", "research", DataForm.Identifiable, SubjectIsMinor: true);

        var outcome = _policy.Explain(q, lines);

        Assert.Same(_policy.Evaluate(q), outcome);
        Assert.Equal(4, lines.Count);
        Assert.Equal("rule deny_research_minors (deny): matched; decides (deny overrides allow)", lines[0]);
        Assert.Equal("rule research_anonymised (allow): not matched: form is identifiable, rule needs [anonymised]", lines[1]);
        Assert.Equal("rule research_anything_from_nurse (allow): matched; not needed, rule deny_research_minors already decided", lines[2]);
        Assert.StartsWith("decision: Deny by rule deny_research_minors (policy test.1+sha256:", lines[3], StringComparison.Ordinal);
    }

    [Fact]
    public void Explain_ConditionMismatches_NameEveryFailedCondition()
    {
        var lines = new List<string>();

        var outcome = _policy.Explain(new PolicyQuery("contact", "police", "care", DestinationCountry: "DE", SubjectIsMinor: true), lines);

        Assert.Equal(CompiledPolicy.NoMatchingRule, outcome.RuleId);
        Assert.Contains(lines, l => l.StartsWith("rule contact_to_police_uk (allow): not matched: subject_request is false, rule needs [true]; subject_is_minor is true, rule needs [false]; destination is abroad, rule needs [uk]", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("rule contact_to_police_ie_fr (allow): not matched: subject_request is false, rule needs [true]; destination is abroad, rule needs [IE, FR]", StringComparison.Ordinal));
        Assert.Equal("no rule matched: deny no_matching_rule", lines[^1]);
    }

    [Fact]
    public void Explain_StatusConditions_AreExplained()
    {
        var lines = new List<string>();

        _policy.Explain(new PolicyQuery("health", "gp", "care", SubjectStatuses: ["in_need"]), lines);

        Assert.Contains("subject_statuses has none of [looked_after]", lines[0], StringComparison.Ordinal);
        Assert.Contains("subject_statuses has in_need, rule excludes [in_need]", lines[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("x_cat", "gp", "care", "category 'x_cat' is not defined")]
    [InlineData("contact", "x_rec", "care", "recipient 'x_rec' is not defined")]
    [InlineData("contact", "gp", "x_purp", "purpose 'x_purp' is not defined")]
    public void Explain_UnknownId_NamesTheId(string category, string recipient, string purpose, string expected)
    {
        var lines = new List<string>();

        _policy.Explain(new PolicyQuery(category, recipient, purpose), lines);

        Assert.Single(lines);
        Assert.StartsWith(expected, lines[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Explain_NoRuleNamesTheTriple_SaysSo()
    {
        var lines = new List<string>();

        _policy.Explain(new PolicyQuery("offence", "gp", "care"), lines);

        Assert.Equal(["no rule names category 'offence', recipient 'gp' and purpose 'care' together: deny no_matching_rule"], lines);
    }
}
