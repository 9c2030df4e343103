using Gatekeeper.Policy.Tests.Support;

namespace Gatekeeper.Policy.Tests;

public sealed class PolicyCliTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly StringWriter _out = new();
    private readonly StringWriter _err = new();

    public void Dispose()
    {
        _folder.Dispose();
        _out.Dispose();
        _err.Dispose();
    }

    private int Run(params string[] args) => PolicyCli.Run(args, _out, _err);

    private void WritePolicy()
    {
        _folder.Write("vocabulary.yaml", TestPolicies.Vocabulary);
        _folder.Write("rules.yaml", TestPolicies.Rules);
    }

    [Fact]
    public void Validate_ValidPolicy_PrintsVersionAndExitsZero()
    {
        WritePolicy();

        int exit = Run("validate", _folder.Path);

        Assert.Equal(PolicyCli.Ok, exit);
        Assert.Matches(@"^policy valid: version test\.1\+sha256:[0-9a-f]{16}, 8 rules", _out.ToString());
    }

    [Fact]
    public void Validate_InvalidPolicy_PrintsFileLineColumnPerErrorAndExitsOne()
    {
        _folder.Write("vocabulary.yaml", TestPolicies.Vocabulary);
        var rules = _folder.Write("rules.yaml", "rules:\n  - { id: a, effect: allow, categories: [x1], recipients: [gp], purposes: [x3], lawful_basis: { article6: \"6(1)(e)\" }, reason: r, source: s }\n");

        int exit = Run("validate", _folder.Path);

        Assert.Equal(PolicyCli.Failed, exit);
        var lines = _err.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal($"{rules}:2:42: rule 'a': unknown category 'x1'; correct it or define it under 'categories:'", lines[0]);
        Assert.StartsWith($"{rules}:2:76: rule 'a': unknown purpose 'x3'", lines[1], StringComparison.Ordinal);
        Assert.Equal("policy invalid: 2 error(s)", lines[2]);
    }

    [Theory]
    [InlineData]
    [InlineData("validate")]
    [InlineData("frobnicate", "x")]
    [InlineData("test", "a", "b")]
    public void Run_BadUsage_PrintsUsageAndExitsTwo(params string[] args)
    {
        Assert.Equal(PolicyCli.Usage, Run(args));
        Assert.Contains("usage: policy validate PATH", _err.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Test_PassingAndFailingCases_PrintsDiffSummaryAndExitsOne()
    {
        WritePolicy();
        _folder.Write("cases.tests.yaml", """
            tests:
              - name: press is denied
                request: { category: contact, recipient: press, purpose: care }
                expect: { decision: deny, rule: deny_press }
              - name: wrong expectation
                request: { category: health, recipient: gp, purpose: care, subject_statuses: [looked_after] }
                expect: { decision: allow, rule: other_rule, obligations: [minimise, pseudonymise] }
            """);

        int exit = Run("test", _folder.Path);

        var output = _out.ToString();
        Assert.Equal(PolicyCli.Failed, exit);
        Assert.Contains("PASS cases.tests.yaml:2:5 press is denied", output, StringComparison.Ordinal);
        Assert.Contains("FAIL cases.tests.yaml:5:5 wrong expectation", output, StringComparison.Ordinal);
        Assert.Contains("    decision:    expected allow, got allow_with_conditions", output, StringComparison.Ordinal);
        Assert.Contains("    rule:        expected other_rule, got health_to_gp", output, StringComparison.Ordinal);
        Assert.Contains("    obligations: expected [minimise, pseudonymise], got [minimise, record] (missing pseudonymise) (unexpected record)", output, StringComparison.Ordinal);
        Assert.Contains("      | rule health_to_gp (allow): matched; decides", output, StringComparison.Ordinal);
        Assert.EndsWith($"1 passed, 1 failed{Environment.NewLine}", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Test_AllPass_ExitsZeroAndReportsUncoveredRules()
    {
        WritePolicy();
        _folder.Write("cases.tests.yaml", """
            tests:
              - name: press is denied
                seeds: [10]
                request: { category: contact, recipient: press, purpose: care, destination_country: FR, subject_is_minor: unknown, subject_request: true, form: pseudonymised, consent: withdrawn }
                expect: { decision: deny, rule: deny_press, obligations: [] }
            """);

        int exit = Run("test", _folder.Path);

        var output = _out.ToString();
        Assert.Equal(PolicyCli.Ok, exit);
        Assert.Contains("warning: rules that no passing case is decided by: contact_to_carers, health_to_gp", output, StringComparison.Ordinal);
        Assert.Contains("note: seed statements with no allow case: 10", output, StringComparison.Ordinal);
        Assert.EndsWith($"1 passed, 0 failed{Environment.NewLine}", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Test_MalformedTestFile_ReportsErrorsAndExitsOne()
    {
        WritePolicy();
        _folder.Write("bad.tests.yaml", """
            tests:
              - name: typo
                request: { category: contact, recipent: press, purpose: care, form: secret }
                expect: { decision: maybe }
            """);

        int exit = Run("test", _folder.Path);

        var errors = _err.ToString();
        Assert.Equal(PolicyCli.Failed, exit);
        Assert.Contains("bad.tests.yaml:3:35: unknown key 'recipent' in a request (did you mean 'recipient'?)", errors, StringComparison.Ordinal);
        Assert.Contains("'form' must be one of identifiable, pseudonymised, anonymised", errors, StringComparison.Ordinal);
        Assert.Contains("'decision' must be one of allow, allow_with_conditions, deny", errors, StringComparison.Ordinal);
        Assert.Contains("'expect' needs 'decision' and 'rule'", errors, StringComparison.Ordinal);
    }

    [Fact]
    public void Test_NoTestFiles_ExitsOne()
    {
        WritePolicy();

        Assert.Equal(PolicyCli.Failed, Run("test", _folder.Path));
        Assert.Contains("no *.tests.yaml files", _err.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Test_InvalidPolicy_ExitsOneWithoutRunningCases()
    {
        _folder.Write("policy.yaml", "rules: [");
        _folder.Write("cases.tests.yaml", "tests: []");

        Assert.Equal(PolicyCli.Failed, Run("test", _folder.Path));
        Assert.Contains("YAML syntax error", _err.ToString(), StringComparison.Ordinal);
        Assert.Equal(string.Empty, _out.ToString());
    }
}
