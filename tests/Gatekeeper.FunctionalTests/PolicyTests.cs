using System.Diagnostics;
using Gatekeeper.FunctionalTests.Infrastructure;
using Gatekeeper.V1;

namespace Gatekeeper.FunctionalTests;

/// <summary>
/// The default policy answering through the real server (one case per kind of seed statement, both sides),
/// explain, and hot reload of the served policy.
/// </summary>
public sealed class PolicyTests : IClassFixture<GatekeeperServerFixture>
{
    private readonly GatekeeperServerFixture _fixture;

    public PolicyTests(GatekeeperServerFixture fixture) => _fixture = fixture;

    public static TheoryData<string, string, string, string, Decision, string> SeedCases() => new()
    {
        // category, recipient, purpose, context (form|consent|statuses|country|request|minor), decision, rule
        { "programme_progress", "dfe", "programme_evaluation", "", Decision.AllowWithConditions, "dfe_programme_evaluation" },
        { "programme_progress", "dfe", "benefit_or_service_decision", "", Decision.Deny, "deny_dfe_programme_data_for_decisions" },
        { "programme_progress", "dwp", "programme_evaluation", "pseudonymised", Decision.AllowWithConditions, "dfe_onward_pseudonymised" },
        { "programme_progress", "dwp", "programme_evaluation", "identifiable", Decision.Deny, "deny_onward_identifiable" },
        { "cpis_flag", "nhs_cpis", "cpis_alert", "|looked_after", Decision.AllowWithConditions, "cpis_alert" },
        { "cpis_flag", "nhs_cpis", "cpis_alert", "|child_in_need", Decision.Deny, "deny_cpis_without_plan_status" },
        { "social_care_case", "court_abroad", "court_liaison", "||FR", Decision.AllowWithConditions, "court_liaison_courts_abroad" },
        { "social_care_case", "other_local_authority", "social_care", "||FR", Decision.Deny, "deny_transfer_abroad" },
        { "housing", "mp", "representation", "|||request", Decision.AllowWithConditions, "representation" },
        { "housing", "mp", "representation", "", Decision.Deny, "deny_representation_without_request" },
        { "financial_payment", "cabinet_office_nfi", "fraud_prevention", "||||adult", Decision.AllowWithConditions, "nfi" },
        { "financial_payment", "cabinet_office_nfi", "fraud_prevention", "||||minor", Decision.Deny, "deny_nfi_minors" },
        { "child_protection", "media", "child_protection", "", Decision.Deny, "deny_never_permitted_recipients" },
        { "education", "a_tabloid", "child_protection", "", Decision.Deny, "unknown_recipient" },
    };

    private static DecideRequest Request(string category, string recipient, string purpose, string context)
    {
        var parts = context.Split('|');
        string Part(int i) => parts.Length > i ? parts[i] : string.Empty;
        var request = new DecideRequest { Category = category, Recipient = recipient, Purpose = purpose, Context = new DecisionContext() };
        request.Context.Form = Part(0) switch
        {
            "pseudonymised" => DataForm.Pseudonymised,
            "anonymised" => DataForm.Anonymised,
            "identifiable" => DataForm.Identifiable,
            _ => DataForm.Unspecified,
        };
        if (Part(1).Length > 0)
        {
            request.Context.SubjectStatuses.Add(Part(1));
        }

        request.Context.DestinationCountry = Part(2);
        request.Context.SubjectRequest = Part(3) == "request";
        if (Part(4).Length > 0)
        {
            request.Context.SubjectIsMinor = Part(4) == "minor";
        }

        return request;
    }

    [Theory]
    [MemberData(nameof(SeedCases))]
    public async Task Decide_SeedStatement_AnsweredByTheDefaultPolicy(string category, string recipient, string purpose, string context, Decision decision, string rule)
    {
        var answer = await _fixture.Client.DecideAsync(Request(category, recipient, purpose, context));

        Assert.Equal(decision, answer.Decision);
        Assert.Equal(rule, answer.RuleId);
        Assert.NotEmpty(answer.Reason);
        if (decision == Decision.AllowWithConditions)
        {
            Assert.NotEmpty(answer.Obligations);
            Assert.NotEmpty(answer.LawfulBasis.Article6);
        }
    }

    [Fact]
    public async Task Decide_Explain_ListsTheRulesConsidered()
    {
        var request = Request("cpis_flag", "nhs_cpis", "cpis_alert", "|looked_after");
        request.Explain = true;

        var answer = await _fixture.Client.DecideAsync(request);

        Assert.Contains(answer.Explanation, line => line.Contains("cpis_alert", StringComparison.Ordinal) && line.Contains("matched", StringComparison.Ordinal));
        Assert.Contains(answer.Explanation, line => line.Contains("deny_cpis_without_plan_status", StringComparison.Ordinal) && line.Contains("not matched", StringComparison.Ordinal));
    }

    [Fact]
    public async Task HotReload_ValidEditServedAndInvalidEditRefused()
    {
        var policy = Directory.CreateTempSubdirectory("gk-reload-").FullName;
        try
        {
            foreach (var file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "policies"), "*.yaml"))
            {
                File.Copy(file, Path.Combine(policy, Path.GetFileName(file)));
            }

            await using var server = await GatekeeperServer.StartAsync($"--Gatekeeper:PolicyPath={policy}");
            using var client = server.CreateClient();
            var mp = Request("housing", "mp", "representation", "|||request");
            var before = await client.DecideAsync(mp);
            Assert.Equal(Decision.AllowWithConditions, before.Decision);

            // A valid edit: MPs no longer receive anything (the representation rule removed).
            var rules = Path.Combine(policy, "rules.yaml");
            var text = File.ReadAllText(rules);
            var start = text.IndexOf("  - id: representation\n", StringComparison.Ordinal);
            var end = text.IndexOf("  - id: ", start + 10, StringComparison.Ordinal);
            File.WriteAllText(rules, string.Concat(text.AsSpan(0, start), text.AsSpan(end)));
            var after = await WaitForNewVersionAsync(client, mp, before.PolicyVersion);
            Assert.Equal(Decision.Deny, after.Decision);

            // An invalid edit: refused, logged, and the last valid version keeps serving.
            File.WriteAllText(rules, "rules: [ this is : not valid");
            await WaitUntilAsync(() => server.Logs.Records.Any(r => r.EventId.Name == "PolicyRejected"), "the invalid edit is rejected");
            var still = await client.DecideAsync(mp);
            Assert.Equal(after.PolicyVersion, still.PolicyVersion);
            Assert.Equal(Decision.Deny, still.Decision);
        }
        finally
        {
            Directory.Delete(policy, recursive: true);
        }
    }

    private static async Task<DecideResponse> WaitForNewVersionAsync(Client.GatekeeperClient client, DecideRequest request, string oldVersion)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var answer = await client.DecideAsync(request);
            if (answer.PolicyVersion != oldVersion)
            {
                return answer;
            }

            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), "the edited policy was not served within 10 s");
            await Task.Delay(50);
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"timed out waiting until {what}");
            await Task.Delay(50);
        }
    }
}
