using Gatekeeper.Policy.Tests.Support;

namespace Gatekeeper.Policy.Tests;

public sealed class EvaluatorTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly CompiledPolicy _policy;

    public EvaluatorTests()
    {
        _policy = TestPolicies.Load(_folder);
    }

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Evaluate_AllowRuleWithoutObligations_IsPlainAllow()
    {
        var outcome = _policy.Evaluate(new PolicyQuery("contact", "nurse", "care"));

        Assert.Equal(PolicyEffect.Allow, outcome.Effect);
        Assert.Equal("contact_to_carers", outcome.RuleId);
        Assert.Empty(outcome.Obligations);
        Assert.Equal("6(1)(e)", outcome.LawfulBasis.Article6);
        Assert.Equal("carers get contacts", outcome.Reason);
    }

    [Fact]
    public void Evaluate_AllowRuleWithObligations_IsAllowWithConditionsAndCarriesBasis()
    {
        var outcome = _policy.Evaluate(new PolicyQuery("health", "gp", "care", SubjectStatuses: ["looked_after"]));

        Assert.Equal(PolicyEffect.AllowWithConditions, outcome.Effect);
        Assert.Equal("health_to_gp", outcome.RuleId);
        Assert.Equal(["minimise", "record"], outcome.Obligations);
        Assert.Equal("9(2)(h)", outcome.LawfulBasis.Article9);
        Assert.Equal(["Care Act 2014"], outcome.LawfulBasis.Legislation);
    }

    [Fact]
    public void Evaluate_DenyAndAllowBothMatch_DenyWins()
    {
        // research_anonymised allows this; deny_research_minors also matches and comes later in the file.
        var outcome = _policy.Evaluate(new PolicyQuery("contact", "gp", "research", DataForm.Anonymised, SubjectIsMinor: true));

        Assert.Equal(PolicyEffect.Deny, outcome.Effect);
        Assert.Equal("deny_research_minors", outcome.RuleId);
        Assert.Empty(outcome.Obligations);
    }

    [Fact]
    public void Evaluate_TwoAllowsMatch_FirstInPolicyOrderWins()
    {
        var first = _policy.Evaluate(new PolicyQuery("contact", "nurse", "research", DataForm.Anonymised));
        var second = _policy.Evaluate(new PolicyQuery("contact", "nurse", "research", DataForm.Identifiable));

        Assert.Equal("research_anonymised", first.RuleId);
        Assert.Equal("research_anything_from_nurse", second.RuleId);
    }

    [Fact]
    public void Evaluate_RecipientInDeniedClassMember_DeniedForEveryPurpose()
    {
        Assert.Equal("deny_press", _policy.Evaluate(new PolicyQuery("contact", "press", "care")).RuleId);
        Assert.Equal("deny_press", _policy.Evaluate(new PolicyQuery("health", "press", "research", DataForm.Anonymised)).RuleId);
    }

    [Theory]
    [InlineData("nope", "gp", "care", CompiledPolicy.UnknownCategory)]
    [InlineData("contact", "nope", "care", CompiledPolicy.UnknownRecipient)]
    [InlineData("contact", "gp", "nope", CompiledPolicy.UnknownPurpose)]
    [InlineData("nope", "nope", "nope", CompiledPolicy.UnknownCategory)]
    [InlineData("contact", "nope", "nope", CompiledPolicy.UnknownRecipient)]
    [InlineData("CONTACT", "gp", "care", CompiledPolicy.UnknownCategory)]
    [InlineData("offence", "gp", "care", CompiledPolicy.NoMatchingRule)]
    [InlineData("contact", "gp", "sell", CompiledPolicy.NoMatchingRule)]
    public void Evaluate_UnknownOrUnmatchedIds_DenyWithBuiltInCodeInOrder(string category, string recipient, string purpose, string expected)
    {
        var outcome = _policy.Evaluate(new PolicyQuery(category, recipient, purpose));

        Assert.Equal(PolicyEffect.Deny, outcome.Effect);
        Assert.Equal(expected, outcome.RuleId);
        Assert.False(outcome.IsAllowed);
        Assert.NotEmpty(outcome.Reason);
    }

    [Fact]
    public void Evaluate_DefaultQuery_DeniesUnknownCategoryWithoutThrowing()
    {
        var outcome = _policy.Evaluate(default);

        Assert.Equal(CompiledPolicy.UnknownCategory, outcome.RuleId);
    }

    [Fact]
    public void Evaluate_BuiltInOutcomes_ArePreallocated()
    {
        var a = _policy.Evaluate(new PolicyQuery("nope", "gp", "care"));
        var b = _policy.Evaluate(new PolicyQuery("other", "gp", "care"));

        Assert.Same(a, b);
    }

    [Theory]
    [InlineData(Consent.Given, true)]
    [InlineData(Consent.Unknown, true)]
    [InlineData(Consent.Refused, false)]
    [InlineData(Consent.Withdrawn, false)]
    [InlineData((Consent)9, false)]
    public void Evaluate_ConsentCondition_MatchesOnlyListedValues(Consent consent, bool allowed)
    {
        var outcome = _policy.Evaluate(new PolicyQuery("health", "gp", "care", Consent: consent, SubjectStatuses: ["looked_after"]));

        Assert.Equal(allowed, outcome.IsAllowed);
    }

    [Theory]
    [InlineData(DataForm.Anonymised, true)]
    [InlineData(DataForm.Pseudonymised, false)]
    [InlineData((DataForm)3, false)]
    [InlineData((DataForm)(-1), false)]
    public void Evaluate_FormCondition_OutOfRangeEnumsNeverMatch(DataForm form, bool allowed)
    {
        var outcome = _policy.Evaluate(new PolicyQuery("health", "gp", "research", form));

        Assert.Equal(allowed, outcome.IsAllowed);
    }

    [Theory]
    [InlineData(new[] { "looked_after" }, true)]
    [InlineData(new[] { "in_need", "looked_after" }, false)]
    [InlineData(new[] { "in_need" }, false)]
    [InlineData(new string[0], false)]
    [InlineData(new[] { "unheard_of", "looked_after" }, true)]
    public void Evaluate_StatusConditions_AnyOfAndNoneOf(string[] statuses, bool allowed)
    {
        var outcome = _policy.Evaluate(new PolicyQuery("health", "gp", "care", SubjectStatuses: statuses));

        Assert.Equal(allowed, outcome.IsAllowed);
    }

    [Theory]
    [InlineData("", true, false, "contact_to_police_uk")]
    [InlineData("GB", true, false, "contact_to_police_uk")]
    [InlineData("IE", true, null, "contact_to_police_ie_fr")]
    [InlineData("FR", true, true, "contact_to_police_ie_fr")]
    [InlineData("DE", true, false, CompiledPolicy.NoMatchingRule)]
    [InlineData("ie", true, false, CompiledPolicy.NoMatchingRule)]
    [InlineData("", false, false, CompiledPolicy.NoMatchingRule)]
    [InlineData("", true, null, CompiledPolicy.NoMatchingRule)]
    [InlineData("", true, true, CompiledPolicy.NoMatchingRule)]
    public void Evaluate_DestinationRequestAndMinorConditions(string country, bool subjectRequest, bool? minor, string expected)
    {
        var outcome = _policy.Evaluate(new PolicyQuery("contact", "police", "care", DestinationCountry: country, SubjectRequest: subjectRequest, SubjectIsMinor: minor));

        Assert.Equal(expected, outcome.RuleId);
    }

    [Fact]
    public void Evaluate_NullDestinationAndStatuses_TreatedAsUkAndNone()
    {
        var outcome = _policy.Evaluate(new PolicyQuery("contact", "police", "care", DestinationCountry: null!, SubjectRequest: true, SubjectIsMinor: false));

        Assert.Equal("contact_to_police_uk", outcome.RuleId);
    }

    [Fact]
    public void Evaluate_RepeatedCalls_AllocateNothing()
    {
        string[] statuses = ["looked_after"];
        var queries = new[]
        {
            new PolicyQuery("health", "gp", "care", SubjectStatuses: statuses),
            new PolicyQuery("contact", "police", "care", DestinationCountry: "IE", SubjectRequest: true),
            new PolicyQuery("contact", "press", "care"),
            new PolicyQuery("nope", "gp", "care"),
            new PolicyQuery("offence", "gp", "care"),
        };
        foreach (var q in queries)
        {
            _policy.Evaluate(q);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            foreach (var q in queries)
            {
                _policy.Evaluate(q);
            }
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Evaluate_ManyThreads_SameAnswers()
    {
        var q = new PolicyQuery("health", "gp", "care", SubjectStatuses: ["looked_after"]);
        var expected = _policy.Evaluate(q);

        var results = new PolicyOutcome[8];
        Parallel.For(0, results.Length, i =>
        {
            PolicyOutcome last = null!;
            for (int n = 0; n < 10_000; n++)
            {
                last = _policy.Evaluate(q);
            }

            results[i] = last;
        });

        Assert.All(results, r => Assert.Same(expected, r));
    }

    [Fact]
    public void Version_HasLabelAndContentHash()
    {
        Assert.Matches("^test\\.1\\+sha256:[0-9a-f]{16}$", _policy.Version);
        Assert.Equal("test.1", _policy.Label);
        Assert.Equal(8, _policy.RuleIds.Count);
        Assert.Contains("contact", _policy.Categories);
        Assert.Contains("press", _policy.Recipients);
        Assert.Contains("sell", _policy.Purposes);
    }
}
