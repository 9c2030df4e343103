using Gatekeeper.Policy.Tests.Support;

namespace Gatekeeper.Policy.Tests.Callers;

/// <summary>The <c>callers</c> section: who may ask about what, compiled and validated like the rest of the policy.</summary>
public sealed class CallerPolicyTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private CompiledPolicy Load(string callers)
    {
        _folder.Write("callers.yaml", callers);
        return TestPolicies.Load(_folder);
    }

    private IReadOnlyList<PolicyError> Errors(string callers)
    {
        _folder.Write("callers.yaml", callers);
        return TestPolicies.Errors(_folder, TestPolicies.Rules);
    }

    private static PolicyError Single(IReadOnlyList<PolicyError> errors, string fragment)
    {
        var matching = errors.Where(e => e.Message.Contains(fragment, StringComparison.Ordinal)).ToList();
        Assert.True(matching.Count == 1, $"expected one error containing '{fragment}', got:{Environment.NewLine}{string.Join(Environment.NewLine, errors)}");
        return matching[0];
    }

    [Fact]
    public void Load_NoCallersSection_OnlyAnonymousLoopbackMayAskEverything()
    {
        var policy = TestPolicies.Load(_folder);

        Assert.False(policy.Callers.Declared);
        Assert.True(policy.Callers.TryGet(CallerPolicy.AnonymousLoopback, out var loopback));
        Assert.True(loopback.MayAsk("contact", "care"));
        Assert.True(loopback.MayAsk("not_defined", "care"));
        Assert.True(loopback.MayQueryAudit && loopback.MayReloadPolicy);
        Assert.True(loopback.RateLimit!.IsUnlimited);
        Assert.False(policy.Callers.TryGet(CallerPolicy.Anonymous, out _));
        Assert.False(policy.Callers.TryGet("spiffe://council.example/case-management", out _));
    }

    [Fact]
    public void Load_CallersWithListsAllAndAllExcept_EntitlementsAsWritten()
    {
        var policy = Load("""
            callers:
              spiffe://council.example/case-management:
                description: the case management system
                categories: [contact, health]
                purposes: '*'
              research.council.internal:
                categories: { all_except: [offence, case] }
                purposes: [research]
              ops-dashboard:
                admin: [query_audit]
                rate_limit: { per_second: 2.5, burst: 10 }
              auditor:
            """);

        Assert.True(policy.Callers.Declared);
        Assert.False(policy.Callers.TryGet(CallerPolicy.AnonymousLoopback, out _));
        Assert.True(policy.Callers.TryGet("spiffe://council.example/case-management", out var cms));
        Assert.True(cms.MayAsk("contact", "care"));
        Assert.True(cms.MayAsk("health", "not_a_purpose"));
        Assert.False(cms.MayAsk("offence", "care"));
        Assert.False(cms.MayQueryAudit || cms.MayReloadPolicy);

        Assert.True(policy.Callers.TryGet("research.council.internal", out var research));
        Assert.True(research.MayAsk("contact", "research"));
        Assert.True(research.MayAsk("health", "research"));
        Assert.False(research.MayAsk("offence", "research"));
        Assert.False(research.MayAsk("contact", "care"));
        Assert.False(research.MayAsk("not_defined", "research"));

        Assert.True(policy.Callers.TryGet("ops-dashboard", out var ops));
        Assert.True(ops.MayQueryAudit);
        Assert.False(ops.MayReloadPolicy);
        Assert.False(ops.MayAsk("contact", "care"));
        Assert.Equal(new CallerRateLimit(2.5, 10), ops.RateLimit);
        Assert.Null(cms.RateLimit);

        Assert.True(policy.Callers.TryGet("auditor", out var nothing));
        Assert.False(nothing.MayAsk("contact", "care") || nothing.MayQueryAudit || nothing.MayReloadPolicy);
    }

    [Fact]
    public void Load_CallersChange_VersionChanges()
    {
        var before = Load("callers:\n  a:\n    categories: '*'\n    purposes: '*'\n").Version;

        var after = Load("callers:\n  a:\n    categories: [contact]\n    purposes: '*'\n").Version;

        Assert.NotEqual(before, after);
    }

    [Fact]
    public void Load_UnknownIdsInCallers_EachReportedAtItsPositionWithSuggestion()
    {
        var errors = Errors("""
            callers:
              svc-a:
                categories: [contcat]
                purposes: [reserch]
                admin: [query_audits]
            """);

        var category = Single(errors, "caller 'svc-a': unknown category 'contcat' (did you mean 'contact'?)");
        Assert.EndsWith("callers.yaml", category.File, StringComparison.Ordinal);
        Assert.Equal(3, category.Line);
        Assert.Equal(18, category.Column);
        Single(errors, "caller 'svc-a': unknown purpose 'reserch' (did you mean 'research'?)");
        Single(errors, "unknown admin right 'query_audits' (did you mean 'query_audit'?)");
    }

    [Fact]
    public void Load_ShapeErrorsInCallers_AllReportedAtOnce()
    {
        var errors = Errors("""
            callers:
              "bad\u0001id":
                categories: '*'
                purposes: '*'
              half:
                categories: '*'
              typo:
                purpose: '*'
              list: [a, b]
              limited:
                rate_limit: { per_second: -1, burst: lots, every: 2 }
            """);

        Single(errors, "is not a caller identity");
        Single(errors, "caller 'half' names categories but no purposes");
        Single(errors, "unknown key 'purpose' in caller 'typo' (did you mean 'purposes'?)");
        Single(errors, "caller 'list' must be a mapping");
        Single(errors, "'per_second' must be a number of calls per second above 0");
        Single(errors, "'burst' must be a whole number of calls");
        Single(errors, "unknown key 'every' in 'rate_limit'");
        Assert.True(errors.Count >= 7);
    }

    [Fact]
    public void Load_CallerListedTwiceAcrossFiles_ReportedWithFirstPosition()
    {
        _folder.Write("more-callers.yaml", "callers:\n  svc-a:\n    admin: '*'\n");

        var errors = Errors("callers:\n  svc-a:\n    categories: '*'\n    purposes: '*'\n");

        var duplicate = Single(errors, "caller 'svc-a' is listed twice (first at");
        Assert.Contains("callers.yaml:2:3", duplicate.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("anonymous-loopback", true)]
    [InlineData("spiffe://council.example/ns/care/sa/case-management", true)]
    [InlineData("Case Management System", true)]
    [InlineData(" leading", false)]
    [InlineData("trailing ", false)]
    [InlineData("tab\there", false)]
    [InlineData("", false)]
    [InlineData("caf\u00e9", false)]
    public void IsValidCallerIdentity_Value_AcceptsPrintableAsciiOnly(string value, bool valid) =>
        Assert.Equal(valid, Internal.PolicyParser.IsValidCallerIdentity(value));

    [Fact]
    public void IsValidCallerIdentity_TooLong_Rejected() =>
        Assert.False(Internal.PolicyParser.IsValidCallerIdentity(new string('a', 257)));
}
