// Last run (2026-11-22, --job short, on a shared 2-core VM with other builds running: read the ratios).
// Compiled against Gatekeeper.Policy alone because src/Gatekeeper was mid-edit at the time.
// dotnet run -c Release --project perf/Gatekeeper.Benchmarks -- --filter '*Policy*' --job short
//
// BenchmarkDotNet v0.14.0, Debian GNU/Linux 12 (bookworm)
// Intel Xeon Processor, 1 CPU, 2 logical and 2 physical cores
// .NET SDK 10.0.401
//   [Host]   : .NET 10.0.12 (10.0.1226.42308), X64 RyuJIT AVX-512F+CD+BW+DQ+VL+VBMI
//   ShortRun : .NET 10.0.12 (10.0.1226.42308), X64 RyuJIT AVX-512F+CD+BW+DQ+VL+VBMI
//
// Job=ShortRun  IterationCount=3  LaunchCount=1
// WarmupCount=3
//
// | Method                              | Mean      | Error     | StdDev    | Ratio | RatioSD | Allocated | Alloc Ratio |
// |------------------------------------ |----------:|----------:|----------:|------:|--------:|----------:|------------:|
// | Default_CpisAlertAllowed            | 101.08 ns | 403.00 ns | 22.090 ns |  1.03 |    0.27 |         - |          NA |
// | Default_DfeEvaluationWithConditions |  56.54 ns |  87.50 ns |  4.796 ns |  0.58 |    0.11 |         - |          NA |
// | Default_TransferAbroadDenied        |  54.93 ns |  66.94 ns |  3.669 ns |  0.56 |    0.11 |         - |          NA |
// | Default_CourtLiaisonAbroadAllowed   |  83.21 ns | 167.32 ns |  9.171 ns |  0.85 |    0.18 |         - |          NA |
// | Default_UnknownRecipientDenied      |  26.20 ns |  17.01 ns |  0.932 ns |  0.27 |    0.05 |         - |          NA |
// | Default_NoMatchingRule              | 129.46 ns | 343.67 ns | 18.838 ns |  1.32 |    0.30 |         - |          NA |
// | Generated10k_Hit                    | 226.12 ns |  75.45 ns |  4.136 ns |  2.31 |    0.43 |         - |          NA |
// | Generated10k_Miss                   | 330.43 ns | 455.36 ns | 24.960 ns |  3.37 |    0.66 |         - |          NA |
//
// Generated10k: the (category, recipient, purpose) cell queried holds ~50 rules that differ only by
// destination country, so Hit scans about half of them and Miss all of them; the other ~9,950 rules
// are never looked at.

using System.Text;
using BenchmarkDotNet.Attributes;
using Gatekeeper.Policy;

namespace Gatekeeper.Benchmarks;

/// <summary>
/// Policy evaluation: representative questions against the shipped default policy, and against a
/// generated policy of 10,000 rules over a 100 x 200 x 50 vocabulary, to show that the cost does not
/// grow with rules that cannot match. Target: under 1 us and 0 bytes per Evaluate.
/// Not sealed: BenchmarkDotNet generates a type that derives from it.
/// </summary>
[MemoryDiagnoser]
public class PolicyBenchmarks
{
    private const int GeneratedRules = 10_000;
    private static readonly string[] LookedAfter = ["looked_after"];

    private CompiledPolicy _default = null!;
    private CompiledPolicy _generated = null!;
    private PolicyQuery _cpis;
    private PolicyQuery _dfe;
    private PolicyQuery _abroadDenied;
    private PolicyQuery _courtAbroad;
    private PolicyQuery _unknownRecipient;
    private PolicyQuery _noMatch;
    private PolicyQuery _generatedHit;
    private PolicyQuery _generatedMiss;
    private string _folder = string.Empty;

    [GlobalSetup]
    public void Setup()
    {
        _default = Load(FindPolicies());
        _cpis = new PolicyQuery("cpis_flag", "nhs_cpis", "cpis_alert", SubjectStatuses: LookedAfter);
        _dfe = new PolicyQuery("programme_progress", "dfe", "programme_evaluation");
        _abroadDenied = new PolicyQuery("health_disability", "gp_surgery", "social_care", DestinationCountry: "ES");
        _courtAbroad = new PolicyQuery("social_care_case", "court_abroad", "court_liaison", DestinationCountry: "IE");
        _unknownRecipient = new PolicyQuery("identity_contact", "insurance_company", "social_care");
        _noMatch = new PolicyQuery("health_disability", "housing_provider", "social_care");

        _folder = Path.Combine(Path.GetTempPath(), "gk-policy-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_folder);
        File.WriteAllText(Path.Combine(_folder, "generated.yaml"), Generate());
        _generated = Load(_folder);

        // Rule 5000's cell (it shares it with other rules that differ by destination country).
        int i = 5000;
        _generatedHit = new PolicyQuery($"c{i % 100}", $"r{i * 7 % 200}", $"p{i % 50}", DestinationCountry: Country(i));
        _generatedMiss = new PolicyQuery($"c{i % 100}", $"r{i * 7 % 200}", $"p{i % 50}", DestinationCountry: "Z9");
        if (_generated.Evaluate(_generatedHit).RuleId != "g5000" || _default.Evaluate(_cpis).RuleId != "cpis_alert")
        {
            throw new InvalidOperationException("benchmark queries do not hit the intended rules");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_folder, recursive: true);

    [Benchmark(Baseline = true)]
    public PolicyOutcome Default_CpisAlertAllowed() => _default.Evaluate(_cpis);

    [Benchmark]
    public PolicyOutcome Default_DfeEvaluationWithConditions() => _default.Evaluate(_dfe);

    [Benchmark]
    public PolicyOutcome Default_TransferAbroadDenied() => _default.Evaluate(_abroadDenied);

    [Benchmark]
    public PolicyOutcome Default_CourtLiaisonAbroadAllowed() => _default.Evaluate(_courtAbroad);

    [Benchmark]
    public PolicyOutcome Default_UnknownRecipientDenied() => _default.Evaluate(_unknownRecipient);

    [Benchmark]
    public PolicyOutcome Default_NoMatchingRule() => _default.Evaluate(_noMatch);

    [Benchmark]
    public PolicyOutcome Generated10k_Hit() => _generated.Evaluate(_generatedHit);

    [Benchmark]
    public PolicyOutcome Generated10k_Miss() => _generated.Evaluate(_generatedMiss);

    private static CompiledPolicy Load(string path)
    {
        var result = PolicyLoader.LoadPath(path);
        return result.Policy ?? throw new InvalidOperationException(string.Join(Environment.NewLine, result.Errors.Take(10)));
    }

    private static string Country(int rule) => $"{(char)('A' + (rule / 200 % 26))}{(char)('A' + (rule / 200 / 26))}";

    /// <summary>
    /// 10,000 allow rules; rules that share a (category, recipient, purpose) cell differ by destination
    /// country, so none shadows another; plus wildcard denies that every cell must consult.
    /// </summary>
    private static string Generate()
    {
        var text = new StringBuilder("categories:\n");
        for (int c = 0; c < 100; c++)
        {
            text.Append("  c").Append(c).Append(": { class: personal }\n");
        }

        text.Append("recipient_classes:\n  all: { description: all }\nrecipients:\n");
        for (int r = 0; r < 200; r++)
        {
            text.Append("  r").Append(r).Append(": { class: all }\n");
        }

        text.Append("purposes:\n");
        for (int p = 0; p < 50; p++)
        {
            text.Append("  p").Append(p).Append(": { description: p }\n");
        }

        text.Append("obligations:\n  minimise: m\nrules:\n");
        text.Append("  - { id: deny_minors, effect: deny, categories: '*', recipients: '*', purposes: '*', when: { subject_is_minor: true }, reason: r, source: s }\n");
        text.Append("  - { id: deny_refused, effect: deny, categories: '*', recipients: '*', purposes: '*', when: { consent: [refused, withdrawn] }, reason: r, source: s }\n");
        for (int i = 0; i < GeneratedRules; i++)
        {
            text.Append("  - { id: g").Append(i)
                .Append(", effect: allow, categories: [c").Append(i % 100).Append(", c").Append((i + 1) % 100)
                .Append("], recipients: [r").Append(i * 7 % 200)
                .Append("], purposes: [p").Append(i % 50)
                .Append("], when: { destination: [").Append(Country(i))
                .Append("] }, lawful_basis: { article6: \"6(1)(e)\" }, obligations: [minimise], reason: r, source: s }\n");
        }

        return text.ToString();
    }

    private static string FindPolicies()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "policies");
            if (File.Exists(Path.Combine(dir.FullName, "Gatekeeper.sln")) && Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("policies/ not found above " + AppContext.BaseDirectory);
    }
}
