using Gatekeeper.Policy.Internal;

namespace Gatekeeper.Policy.Tests;

/// <summary>
/// The shipped policies/ folder: valid, every *.tests.yaml case passes through the CLI (so
/// `dotnet test` runs them), every rule and seed statement is covered, and the key facts of the
/// privacy notices hold.
/// </summary>
public sealed class DefaultPolicyTests
{
    private static readonly string PoliciesPath = FindPolicies();
    private static readonly CompiledPolicy Policy = PolicyLoader.LoadPath(PoliciesPath).Policy
        ?? throw new InvalidOperationException("the default policy does not load: " + string.Join(Environment.NewLine, PolicyLoader.LoadPath(PoliciesPath).Errors));

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

    [Fact]
    public void PolicyCliTest_ShippedPolicy_AllCasesPass()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        int exit = PolicyCli.Run(["test", PoliciesPath], stdout, stderr);

        var output = stdout.ToString();
        Assert.True(exit == 0, output + stderr);
        Assert.Matches(@"\n\d+ passed, 0 failed", output);
        Assert.DoesNotContain("FAIL ", output, StringComparison.Ordinal);
        Assert.DoesNotContain("warning:", output, StringComparison.Ordinal);
        Assert.DoesNotContain("note:", output, StringComparison.Ordinal);
    }

    [Fact]
    public void ShippedTests_CoverEveryRuleAndEverySeedBothWays()
    {
        var errors = new List<PolicyError>();
        var cases = new List<PolicyTestCase>();
        foreach (var file in PolicyTestRunner.FindTestFiles(PoliciesPath))
        {
            cases.AddRange(PolicyTestRunner.Parse(file, PolicyLoaderOptions.Default, errors));
        }

        var report = PolicyTestRunner.Run(Policy, cases, TextWriter.Null);

        Assert.Empty(errors);
        Assert.Equal(0, report.Failed);
        Assert.Empty(report.UncoveredRules);
        Assert.Empty(report.SeedsWithoutAllow);
        Assert.Empty(report.SeedsWithoutDeny);
        var seeds = cases.SelectMany(c => c.Seeds).Distinct().Order().ToList();
        Assert.Equal(Enumerable.Range(1, 13).ToList(), seeds);
    }

    [Fact]
    public void Readme_TraceabilityTable_NamesEverySeedAndOnlyRealRules()
    {
        var readme = File.ReadAllText(Path.Combine(PoliciesPath, "README.md"));
        var rows = readme.Split('\n').Where(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^\| \d+\. ")).ToList();

        Assert.Equal(13, rows.Count);
        var named = new HashSet<string>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(row, "`([a-z0-9_]+)`"))
            {
                named.Add(m.Groups[1].Value);
            }
        }

        string[] builtIn = [CompiledPolicy.NoMatchingRule, CompiledPolicy.UnknownCategory, CompiledPolicy.UnknownRecipient, CompiledPolicy.UnknownPurpose];
        Assert.All(named.Except(builtIn), id => Assert.Contains(id, Policy.RuleIds));
        Assert.All(Policy.RuleIds, id => Assert.Contains(id, named));
    }

    [Fact]
    public void Vocabulary_DefinesEveryTaxonomyId()
    {
        string[] categories = ["identity_contact", "cpis_flag", "social_care_case", "child_protection", "health_disability", "substance_misuse", "equality_data", "criminal_offence", "financial_payment", "education", "housing", "programme_progress"];
        string[] recipients = ["court_uk", "court_abroad", "other_local_authority", "childrens_services_abroad", "adult_social_care", "safeguarding_partnership", "police", "probation", "youth_offending_service", "nhs_cpis", "gp_surgery", "health_agency", "substance_misuse_team", "education_provider", "housing_provider", "supported_living_provider", "care_provider", "transport_provider", "dfe", "dwp", "mhclg", "cabinet_office_nfi", "moj", "dhsc", "cqc", "dbs", "prepaid_card_provider", "direct_payment_support", "funding_body", "it_contractor", "university_training", "university_research", "voluntary_sector_partner", "elected_member", "mp", "media", "private_individual", "commercial_third_party"];
        string[] purposes = ["family_help", "social_care", "child_protection", "cpis_alert", "crime_prevention", "court_liaison", "service_planning", "statutory_reporting", "research", "consultation", "programme_evaluation", "troubled_families", "fraud_prevention", "payment_administration", "regulatory_inspection", "vetting_barring", "social_work_training", "representation", "equality_monitoring", "it_processing", "benefit_or_service_decision", "publication", "marketing", "processor_own_use"];

        Assert.Equal(categories.Order(), Policy.Categories.Order());
        Assert.Equal(recipients.Order(), Policy.Recipients.Order());
        Assert.Equal(purposes.Order(), Policy.Purposes.Order());
    }

    [Theory]
    [InlineData("media")]
    [InlineData("private_individual")]
    [InlineData("commercial_third_party")]
    public void NeverPermittedRecipient_DeniedForEveryCategoryAndPurpose(string recipient)
    {
        foreach (var category in Policy.Categories)
        {
            foreach (var purpose in Policy.Purposes)
            {
                foreach (var form in new[] { DataForm.Identifiable, DataForm.Anonymised })
                {
                    var outcome = Policy.Evaluate(new PolicyQuery(category, recipient, purpose, form, Consent.Given, ["looked_after"], SubjectRequest: true, SubjectIsMinor: false));
                    Assert.Equal(PolicyEffect.Deny, outcome.Effect);
                }
            }
        }
    }

    [Theory]
    [InlineData("benefit_or_service_decision")]
    [InlineData("publication")]
    [InlineData("marketing")]
    [InlineData("processor_own_use")]
    public void RefuseOnlyPurpose_DeniedForEveryCategoryAndRecipient(string purpose)
    {
        foreach (var category in Policy.Categories)
        {
            foreach (var recipient in Policy.Recipients)
            {
                var outcome = Policy.Evaluate(new PolicyQuery(category, recipient, purpose, DataForm.Anonymised, Consent.Given, SubjectRequest: true));
                Assert.Equal(PolicyEffect.Deny, outcome.Effect);
            }
        }
    }

    [Fact]
    public void AnyPurposeButCourtLiaison_WithForeignDestination_Denied()
    {
        foreach (var category in Policy.Categories)
        {
            foreach (var recipient in Policy.Recipients)
            {
                foreach (var purpose in Policy.Purposes)
                {
                    var outcome = Policy.Evaluate(new PolicyQuery(category, recipient, purpose, DataForm.Anonymised, Consent.Given, ["looked_after"], "IE", true, false));
                    bool liaisonAbroad = purpose == "court_liaison" && recipient is "court_abroad" or "childrens_services_abroad";
                    if (!liaisonAbroad)
                    {
                        Assert.Equal(PolicyEffect.Deny, outcome.Effect);
                    }
                    else if (outcome.IsAllowed)
                    {
                        Assert.Contains("transfer_safeguard", outcome.Obligations);
                    }
                }
            }
        }
    }

    [Fact]
    public void EveryAllowOfSpecialOrCriminalData_StatesArticle9And10()
    {
        string[] special = ["social_care_case", "child_protection", "health_disability", "substance_misuse", "equality_data", "programme_progress"];
        string[] criminal = ["child_protection", "criminal_offence", "programme_progress"];
        foreach (var category in Policy.Categories)
        {
            foreach (var recipient in Policy.Recipients)
            {
                foreach (var purpose in Policy.Purposes)
                {
                    foreach (var form in new[] { DataForm.Identifiable, DataForm.Pseudonymised })
                    {
                        var outcome = Policy.Evaluate(new PolicyQuery(category, recipient, purpose, form, Consent.Given, ["looked_after"], SubjectRequest: true, SubjectIsMinor: false));
                        if (!outcome.IsAllowed)
                        {
                            continue;
                        }

                        Assert.NotEmpty(outcome.LawfulBasis.Article6);
                        if (special.Contains(category))
                        {
                            Assert.StartsWith("9(2)(", outcome.LawfulBasis.Article9, StringComparison.Ordinal);
                            if (recipient is "police" or "probation" or "youth_offending_service" or "housing_provider" or "elected_member" or "mp")
                            {
                                Assert.StartsWith("9(2)(g)", outcome.LawfulBasis.Article9, StringComparison.Ordinal);
                            }
                        }

                        if (criminal.Contains(category))
                        {
                            Assert.StartsWith("10", outcome.LawfulBasis.Article10, StringComparison.Ordinal);
                        }
                    }
                }
            }
        }
    }

    [Fact]
    public void Evaluate_DefaultPolicy_AllocatesNothing()
    {
        var queries = new[]
        {
            new PolicyQuery("cpis_flag", "nhs_cpis", "cpis_alert", SubjectStatuses: ["looked_after"]),
            new PolicyQuery("programme_progress", "dfe", "programme_evaluation"),
            new PolicyQuery("social_care_case", "court_abroad", "court_liaison", DestinationCountry: "IE"),
            new PolicyQuery("identity_contact", "media", "publication"),
        };
        foreach (var q in queries)
        {
            Policy.Evaluate(q);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        foreach (var q in queries)
        {
            Policy.Evaluate(q);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
