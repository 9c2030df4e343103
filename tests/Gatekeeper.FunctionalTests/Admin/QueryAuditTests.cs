using System.Globalization;
using Gatekeeper.Client;
using Gatekeeper.FunctionalTests.Infrastructure;
using Gatekeeper.Protocol;
using Gatekeeper.V1;

namespace Gatekeeper.FunctionalTests.Admin;

/// <summary>
/// gatekeeper.v1.Admin/QueryAudit against the real server: what Decide answered is what the query returns,
/// filters and paging behave like `audit export`, bad input is INVALID_ARGUMENT naming the field. The tests of
/// this class run one after another on one server, so each scopes its query with a start time (or an id).
/// </summary>
public sealed class QueryAuditTests : IClassFixture<GatekeeperServerFixture>, IDisposable
{
    private readonly GatekeeperClient _client;
    private readonly VerifyNoErrorsScope _errors;

    public QueryAuditTests(GatekeeperServerFixture fixture)
    {
        _client = fixture.Client;
        _errors = fixture.Server.Logs.VerifyNoErrors();
    }

    public void Dispose() => _errors.Dispose();

    private static DecideRequest Allowed(string subject = "") => new()
    {
        Category = "health_disability",
        Recipient = "gp_surgery",
        Purpose = "social_care",
        RequestId = "req_" + Guid.NewGuid().ToString("N"),
        SubjectRef = subject,
    };

    private static DecideRequest Denied() => new()
    {
        Category = "health_disability",
        Recipient = "gp_surgery",
        Purpose = "marketing",
        RequestId = "req_" + Guid.NewGuid().ToString("N"),
    };

    /// <summary>A lower bound for records made from now on (RFC 3339, like the dashboards send it).</summary>
    private static string Now() => DateTimeOffset.UtcNow.AddMilliseconds(-1).ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    [Fact]
    public async Task QueryAudit_ByDecisionId_ReturnsTheRecordOfThatAnswer()
    {
        // Arrange
        var request = Allowed(subject: "NHS 943 476 5919");
        var answer = await _client.DecideAsync(request);

        // Act
        var response = await _client.QueryAuditAsync(new QueryAuditRequest { DecisionId = answer.DecisionId });

        // Assert
        var record = Assert.Single(response.Records);
        Assert.Equal("", response.NextPageToken);
        Assert.Equal(answer.DecisionId, record.DecisionId);
        Assert.Equal(answer.Decision, record.Decision);
        Assert.Equal(answer.RuleId, record.RuleId);
        Assert.Equal(answer.PolicyVersion, record.PolicyVersion);
        Assert.Equal(answer.Reason, record.Reason);
        Assert.Equal(answer.Obligations, record.Obligations);
        Assert.Equal(answer.LawfulBasis ?? new LawfulBasis(), record.LawfulBasis ?? new LawfulBasis());
        Assert.Equal((request.Category, request.Recipient, request.Purpose, request.RequestId), (record.Category, record.Recipient, record.Purpose, record.RequestId));
        // The caller as the policy names it (plain text from loopback), no longer the peer address.
        Assert.Equal("anonymous-loopback", record.Caller);
        Assert.Contains("\"form\":\"identifiable\"", record.ContextJson, StringComparison.Ordinal);
        Assert.Matches("^[0-9a-f]{64}$", record.SubjectHmac);
        Assert.DoesNotContain("943 476 5919", record.ToString(), StringComparison.Ordinal);
        Assert.Matches("^[0-9a-f]{64}$", record.Hash);
        Assert.Matches("^[0-9a-f]{64}$", record.PrevHash);
        Assert.True(record.Seq > 0);
        var time = DateTimeOffset.Parse(record.Time, CultureInfo.InvariantCulture);
        Assert.InRange(time, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddSeconds(1));
    }

    [Fact]
    public async Task QueryAudit_BySubjectRef_FindsExactlyThatPersonsDecisions()
    {
        // Arrange
        var person = "subject-" + Guid.NewGuid().ToString("N");
        var other = "subject-" + Guid.NewGuid().ToString("N");
        var first = await _client.DecideAsync(Allowed(person));
        await _client.DecideAsync(Allowed(other));
        var second = await _client.DecideAsync(Allowed(person));

        // Act
        var records = await _client.QueryAllAsync(new QueryAuditRequest { SubjectRef = person });

        // Assert
        Assert.Equal([first.DecisionId, second.DecisionId], records.Select(r => r.DecisionId));
    }

    [Fact]
    public async Task QueryAudit_SmallPages_WalkEveryRecordOnceInOrder()
    {
        // Arrange
        var from = Now();
        var ids = new List<string>();
        for (var i = 0; i < 25; i++)
        {
            ids.Add((await _client.DecideAsync(Allowed())).DecisionId);
        }

        // Act
        var pages = new List<int>();
        var seen = new List<string>();
        var request = new QueryAuditRequest { From = from, PageSize = 7 };
        for (var i = 0; i < 10; i++)
        {
            var page = await _client.QueryAuditAsync(request);
            pages.Add(page.Records.Count);
            seen.AddRange(page.Records.Select(r => r.DecisionId));
            if (page.NextPageToken.Length == 0)
            {
                break;
            }

            request.PageToken = page.NextPageToken;
        }

        // Assert
        Assert.Equal([7, 7, 7, 4], pages);
        Assert.Equal(ids, seen);
    }

    [Fact]
    public async Task QueryAudit_DecisionAndRecipientFilters_ReturnOnlyMatchingRecords()
    {
        // Arrange
        var from = Now();
        var allowed = await _client.DecideAsync(Allowed());
        var denied = await _client.DecideAsync(Denied());
        var to = DateTimeOffset.UtcNow.AddSeconds(1).ToString("O", CultureInfo.InvariantCulture);
        Assert.Equal(Decision.Deny, denied.Decision);
        Assert.NotEqual(Decision.Deny, allowed.Decision);

        // Act
        var denials = await _client.QueryAllAsync(new QueryAuditRequest { From = from, To = to, Decision = Decision.Deny });
        var forPurpose = await _client.QueryAllAsync(new QueryAuditRequest { From = from, Purpose = "social_care", Recipient = "gp_surgery", Category = "health_disability" });
        var none = await _client.QueryAllAsync(new QueryAuditRequest { From = from, Recipient = "police" });
        var before = await _client.QueryAllAsync(new QueryAuditRequest { To = from, DecisionId = allowed.DecisionId });

        // Assert
        Assert.Equal([denied.DecisionId], denials.Select(r => r.DecisionId));
        Assert.Equal([allowed.DecisionId], forPurpose.Select(r => r.DecisionId));
        Assert.Empty(none);
        Assert.Empty(before);
    }

    [Fact]
    public async Task QueryAudit_PageSizeAboveMaximum_IsLoweredNotRefused()
    {
        // Arrange
        var from = Now();
        var answer = await _client.DecideAsync(Allowed());

        // Act
        var response = await _client.QueryAuditAsync(new QueryAuditRequest { From = from, PageSize = 1_000_000 });

        // Assert
        Assert.Equal([answer.DecisionId], response.Records.Select(r => r.DecisionId));
    }

    public static TheoryData<string, QueryAuditRequest> InvalidFilters() => new()
    {
        { "from", new QueryAuditRequest { From = "yesterday" } },
        { "from", new QueryAuditRequest { From = "5" } },
        { "to", new QueryAuditRequest { To = "2026-13-45T00:00:00Z" } },
        { "to", new QueryAuditRequest { From = "2026-11-21T00:00:00Z", To = "2026-11-20T00:00:00Z" } },
        { "recipient", new QueryAuditRequest { Recipient = "Police" } },
        { "category", new QueryAuditRequest { Category = "child protection" } },
        { "purpose", new QueryAuditRequest { Purpose = new string('a', 65) } },
        { "decision", new QueryAuditRequest { Decision = (Decision)42 } },
        { "decision_id", new QueryAuditRequest { DecisionId = "01jd" } },
        { "decision_id", new QueryAuditRequest { DecisionId = "01JD4Q7Z1X9N8M2K3P5R6T7V8U" } },
        { "subject_ref", new QueryAuditRequest { SubjectRef = new string('x', 257) } },
        { "subject_ref", new QueryAuditRequest { SubjectRef = "ab\ncd" } },
        { "page_size", new QueryAuditRequest { PageSize = -1 } },
        { "page_token", new QueryAuditRequest { PageToken = "not-a-token" } },
        { "page_token", new QueryAuditRequest { PageToken = "-5" } },
    };

    [Theory]
    [MemberData(nameof(InvalidFilters))]
    public async Task QueryAudit_InvalidField_InvalidArgumentNamingTheField(string field, QueryAuditRequest request)
    {
        // Act
        var ex = await Assert.ThrowsAsync<RpcException>(() => _client.QueryAuditAsync(request));

        // Assert
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.StartsWith(field + ":", ex.Detail, StringComparison.Ordinal);
    }
}
