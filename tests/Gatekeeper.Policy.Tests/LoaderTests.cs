using System.Diagnostics;
using System.Text;
using Gatekeeper.Policy.Tests.Support;

namespace Gatekeeper.Policy.Tests;

public sealed class LoaderTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void LoadPath_FolderOfFiles_MergesThemAndSkipsTestFiles()
    {
        _folder.Write("vocabulary.yaml", TestPolicies.Vocabulary);
        _folder.Write("rules.yaml", TestPolicies.Rules);
        _folder.Write("rules.tests.yaml", "this is: [not, a policy");
        _folder.Write("notes.txt", "ignored");

        var result = PolicyLoader.LoadPath(_folder.Path);

        Assert.True(result.IsValid, string.Join(Environment.NewLine, result.Errors));
        Assert.Empty(result.Errors);
        Assert.Equal(8, result.Policy!.RuleIds.Count);
    }

    [Fact]
    public void LoadPath_SingleFile_Loads()
    {
        var file = _folder.Write("all.yaml", TestPolicies.Vocabulary + "\n" + TestPolicies.Rules);

        var result = PolicyLoader.LoadPath(file);

        Assert.True(result.IsValid, string.Join(Environment.NewLine, result.Errors));
    }

    [Fact]
    public void LoadPath_SameContent_SameVersion_AnyEditChangesIt()
    {
        var first = TestPolicies.Load(_folder);
        var again = PolicyLoader.LoadPath(_folder.Path).Policy!;
        _folder.Write("rules.yaml", TestPolicies.Rules.Replace("never the press", "never, ever the press", StringComparison.Ordinal));
        var edited = PolicyLoader.LoadPath(_folder.Path).Policy!;

        Assert.Equal(first.Version, again.Version);
        Assert.NotEqual(first.Version, edited.Version);
        Assert.StartsWith("test.1+sha256:", edited.Version, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadPath_NoLabel_VersionIsContentHashOnly()
    {
        var policy = TestPolicies.Load(_folder, TestPolicies.Rules.Replace("policy:\n  label: test.1\n", string.Empty, StringComparison.Ordinal));

        Assert.Matches("^sha256:[0-9a-f]{16}$", policy.Version);
        Assert.Null(policy.Label);
        Assert.Equal(policy.ContentHash, policy.Version);
    }

    [Fact]
    public void LoadPath_MissingPath_ReportsIt()
    {
        var result = PolicyLoader.LoadPath(Path.Combine(_folder.Path, "nope"));

        var error = Assert.Single(result.Errors);
        Assert.StartsWith("policy path not found", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadPath_EmptyFolder_ReportsNoPolicyFiles()
    {
        _folder.Write("only.tests.yaml", "tests: []");

        var error = Assert.Single(PolicyLoader.LoadPath(_folder.Path).Errors);

        Assert.StartsWith("no policy files", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadPath_SyntaxErrorsInSeveralFiles_AllReportedWithPositions()
    {
        _folder.Write("a.yaml", "categories:\n  x: { class: personal\n");
        _folder.Write("b.yaml", "rules:\n  - id: a\n   effect: allow\n");

        var errors = PolicyLoader.LoadPath(_folder.Path).Errors;

        Assert.Equal(2, errors.Count);
        Assert.EndsWith("a.yaml", errors[0].File, StringComparison.Ordinal);
        Assert.EndsWith("b.yaml", errors[1].File, StringComparison.Ordinal);
        Assert.All(errors, e => Assert.StartsWith("YAML syntax error: ", e.Message, StringComparison.Ordinal));
        Assert.All(errors, e => Assert.True(e.Line > 1 && e.Column > 0, e.ToString()));
        Assert.DoesNotContain("(Line:", errors[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadPath_NotYaml_Rejected()
    {
        _folder.Write("policy.yaml", "{{{{ ]]] :: \"unterminated");

        var error = Assert.Single(PolicyLoader.LoadPath(_folder.Path).Errors);

        Assert.StartsWith("YAML syntax error", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadPath_PlainTextDocument_RejectedAsNotAMapping()
    {
        _folder.Write("policy.yaml", "Dear colleagues, please find the policy attached.");

        var error = Assert.Single(PolicyLoader.LoadPath(_folder.Path).Errors);

        Assert.StartsWith("a policy file must be a YAML mapping", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadPath_BinaryFile_RejectedAsNotUtf8()
    {
        _folder.WriteBytes("policy.yaml", [0x50, 0x4B, 0x03, 0x04, 0xFF, 0xFE, 0x00, 0xC3, 0x28]);

        var error = Assert.Single(PolicyLoader.LoadPath(_folder.Path).Errors);

        Assert.StartsWith("not UTF-8 text (bad byte at offset", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadPath_FileOverSizeLimit_RejectedBeforeReading()
    {
        var big = new StringBuilder("categories:\n");
        for (int i = 0; big.Length < 5 * 1024 * 1024; i++)
        {
            big.Append("  c").Append(i).Append(": { class: personal }\n");
        }

        _folder.Write("policy.yaml", big.ToString());

        var error = Assert.Single(PolicyLoader.LoadPath(_folder.Path).Errors);

        Assert.Contains("over the 4194304-byte limit", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadPath_SizeLimitConfigurable()
    {
        _folder.Write("vocabulary.yaml", TestPolicies.Vocabulary);
        _folder.Write("rules.yaml", TestPolicies.Rules);

        var result = PolicyLoader.LoadPath(_folder.Path, new PolicyLoaderOptions { MaxFileBytes = 100 });

        Assert.Equal(2, result.Errors.Count);
        Assert.All(result.Errors, e => Assert.Contains("over the 100-byte limit", e.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void LoadPath_TotalSizeLimit_Enforced()
    {
        _folder.Write("vocabulary.yaml", TestPolicies.Vocabulary);
        _folder.Write("rules.yaml", TestPolicies.Rules);

        var result = PolicyLoader.LoadPath(_folder.Path, new PolicyLoaderOptions { MaxTotalBytes = TestPolicies.Rules.Length + 10 });

        Assert.Contains(result.Errors, e => e.Message.Contains("add up to more than", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void LoadPath_DeeplyNested_RejectedQuickly(bool flow)
    {
        const int depth = 100_000;
        var text = flow
            ? "rules: " + new string('[', depth) + new string(']', depth)
            : string.Concat(Enumerable.Range(0, 200).Select(i => new string(' ', i) + "k:\n"));
        _folder.Write("policy.yaml", text);

        var watch = Stopwatch.StartNew();
        var error = Assert.Single(PolicyLoader.LoadPath(_folder.Path).Errors);

        Assert.Contains("nested deeper than 32 levels", error.Message, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
    }

    [Fact]
    public void LoadPath_BillionLaughs_RejectedAtTheFirstAlias()
    {
        var text = new StringBuilder("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (char c = 'b'; c <= 'j'; c++)
        {
            char p = (char)(c - 1);
            text.Append(c).Append(": &").Append(c).Append(" [").Append(string.Join(',', Enumerable.Repeat("*" + p, 9))).Append("]\n");
        }

        _folder.Write("policy.yaml", text.ToString());

        var watch = Stopwatch.StartNew();
        var errors = PolicyLoader.LoadPath(_folder.Path).Errors;

        Assert.NotEmpty(errors);
        Assert.All(errors, e => Assert.StartsWith("YAML aliases (*name) are not allowed", e.Message, StringComparison.Ordinal));
        Assert.Equal(2, errors[0].Line);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
    }

    [Fact]
    public void LoadPath_SelfReferencingAnchor_RejectedNotHung()
    {
        _folder.Write("policy.yaml", "rules: &r\n  - id: a\n    nested: *r\n");

        var errors = PolicyLoader.LoadPath(_folder.Path).Errors;

        Assert.Contains(errors, e => e.Message.StartsWith("YAML aliases", StringComparison.Ordinal) && e.Line == 3);
    }

    [Fact]
    public void LoadPath_DuplicateYamlKey_Rejected()
    {
        _folder.Write("policy.yaml", "rules: []\ncategories: {}\nrules: []\n");

        var errors = PolicyLoader.LoadPath(_folder.Path).Errors;

        Assert.Contains(errors, e => e.Message.StartsWith("duplicate key 'rules' (first at line 1)", StringComparison.Ordinal) && e.Line == 3);
    }

    [Fact]
    public void LoadPath_SeveralYamlDocuments_Rejected()
    {
        _folder.Write("policy.yaml", "categories: {}\n---\nrules: []\n");

        var error = Assert.Single(PolicyLoader.LoadPath(_folder.Path).Errors);

        Assert.StartsWith("more than one YAML document", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadPath_ComplexKey_Rejected()
    {
        _folder.Write("policy.yaml", "? [a, b]\n: value\n");

        var errors = PolicyLoader.LoadPath(_folder.Path).Errors;

        Assert.Contains(errors, e => e.Message.StartsWith("a key must be a single value", StringComparison.Ordinal));
    }

    [Fact]
    public void LoadPath_ByteOrderMark_Accepted()
    {
        _folder.WriteBytes("vocabulary.yaml", [.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes(TestPolicies.Vocabulary)]);
        _folder.Write("rules.yaml", TestPolicies.Rules);

        Assert.True(PolicyLoader.LoadPath(_folder.Path).IsValid);
    }

    [Fact]
    public void Compile_676RulesWithCountryLists_EachCountryFindsItsRule()
    {
        var text = new StringBuilder("rules:\n");
        for (int i = 0; i < 10_000; i++)
        {
            text.Append("  - { id: r").Append(i).Append(", effect: allow, categories: [contact], recipients: [gp], purposes: [care], when: { destination: [")
                .Append((char)('A' + (i / 26 % 26))).Append((char)('A' + (i % 26))).Append("] }, lawful_basis: { article6: \"6(1)(e)\" }, reason: r, source: s }\n");
            if (i == 675)
            {
                break;
            }
        }

        _folder.Write("vocabulary.yaml", TestPolicies.Vocabulary);
        _folder.Write("rules.yaml", text.ToString());

        var result = PolicyLoader.LoadPath(_folder.Path);

        Assert.True(result.IsValid, string.Join(Environment.NewLine, result.Errors.Take(5)));
        Assert.Equal("r675", result.Policy!.Evaluate(new PolicyQuery("contact", "gp", "care", DestinationCountry: "ZZ")).RuleId);
        Assert.Equal("r0", result.Policy.Evaluate(new PolicyQuery("contact", "gp", "care", DestinationCountry: "AA")).RuleId);
        // Rule 157 lists "GB", which is the UK: it matches a UK destination, no other rule does.
        Assert.Equal("r157", result.Policy.Evaluate(new PolicyQuery("contact", "gp", "care")).RuleId);
        Assert.Equal(CompiledPolicy.NoMatchingRule, result.Policy.Evaluate(new PolicyQuery("contact", "gp", "care", DestinationCountry: "Z1")).RuleId);
    }
}
