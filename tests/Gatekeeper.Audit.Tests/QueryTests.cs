using System.Text.Json;
using Gatekeeper.Audit.Tests.Support;

namespace Gatekeeper.Audit.Tests;

public sealed class QueryTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 20, 9, 0, 0, TimeSpan.Zero);

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>30 records: recipients cycle police/dfe/gp_surgery, decisions cycle, one per minute from T0.</summary>
    private async Task<AuditLog> WriteAsync()
    {
        var log = new AuditLog(_dir.Options(), new ListLogger(), TimeProvider.System);
        string[] recipients = ["police", "dfe", "gp_surgery"];
        string[] decisions = [AuditDecisions.Allow, AuditDecisions.Deny, AuditDecisions.AllowWithConditions, AuditDecisions.Deny, AuditDecisions.Allow];
        for (var i = 0; i < 30; i++)
        {
            await log.AppendAsync(Records.Sample(
                recipient: recipients[i % 3],
                decision: decisions[i % 5],
                subject: i % 10 == 0 ? "subject-A" : "subject-B",
                time: T0.AddMinutes(i)));
        }

        return log;
    }

    [Fact]
    public async Task Query_PagesWithFilters_ReturnEveryMatchOnceInOrder()
    {
        await using var log = await WriteAsync();
        var query = new AuditQuery(_dir.Options());
        var filter = new AuditQueryFilter { Recipient = "police", From = T0.AddMinutes(3), To = T0.AddMinutes(27) };

        var seen = new List<long>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = query.Query(filter, pageSize: 3, pageToken: token);
            seen.AddRange(page.Entries.Select(e => e.Sequence));
            Assert.All(page.Entries, e => Assert.Equal("police", e.Recipient));
            token = page.NextPageToken;
            pages++;
        }
        while (token is not null);

        // police at i = 3, 6, ..., 24 (minutes 3..26), i.e. sequences 4, 7, ..., 25
        Assert.Equal(Enumerable.Range(1, 8).Select(k => (long)(3 * k + 1)), seen);
        Assert.Equal(3, pages);
    }

    [Fact]
    public async Task Query_BySubject_MatchesTheHmacOfTheClearReference()
    {
        await using var log = await WriteAsync();
        var query = new AuditQuery(_dir.Options());

        var page = query.Query(new AuditQueryFilter { Subject = "subject-A" }, pageSize: 100);

        Assert.Equal([1L, 11, 21], page.Entries.Select(e => e.Sequence));
        Assert.All(page.Entries, e => Assert.Equal(log.HashSubject("subject-A"), e.SubjectHmac));
        Assert.Empty(query.Query(new AuditQueryFilter { Subject = "nobody" }).Entries);
    }

    [Fact]
    public async Task Query_WhileTheWriterRuns_SeesCommittedRecords()
    {
        await using var log = await WriteAsync();
        var query = new AuditQuery(_dir.Options());
        Assert.Equal(30, query.ReadAll(new AuditQueryFilter()).Count());

        await log.AppendAsync(Records.Sample(decision: AuditDecisions.Deny, recipient: "media"));

        Assert.Single(query.ReadAll(new AuditQueryFilter { Recipient = "media" }));
        Assert.True(AuditVerifier.Verify(_dir.Data).IsValid);
    }

    [Fact]
    public async Task Query_BadPageToken_ThrowsArgumentException()
    {
        await using var log = await WriteAsync();
        Assert.Throws<ArgumentException>(() => new AuditQuery(_dir.Options()).Query(new AuditQueryFilter(), 10, "not-a-token"));
    }

    [Fact]
    public async Task AuditCli_ExportWithFilters_WritesJsonLinesWithTheRequiredFieldsAndNoClearSubject()
    {
        await using var log = await WriteAsync();
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var code = AuditCli.Run(
            ["audit", "export", "--decision", "deny", "--recipient", "dfe", "--from", "2026-11-20T09:00:00Z", "--to", "2026-11-20T09:30:00Z"],
            _dir.Data, stdout, stderr);

        Assert.True(code == AuditCli.ExitOk, stderr.ToString());
        var lines = stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // dfe at i % 3 == 1 and deny at i % 5 in {1, 3}: i = 1, 13, 16, 28
        Assert.Equal(4, lines.Length);
        foreach (var line in lines)
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            foreach (var name in new[] { "decision_id", "time", "category", "recipient", "purpose", "decision", "rule_id", "policy_version", "lawful_basis", "obligations", "reason", "context", "subject_hmac", "hash" })
            {
                Assert.True(root.TryGetProperty(name, out _), $"missing {name}");
            }

            Assert.Equal("deny", root.GetProperty("decision").GetString());
            Assert.Equal("dfe", root.GetProperty("recipient").GetString());
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$", root.GetProperty("time").GetString());
            Assert.Equal(JsonValueKind.Object, root.GetProperty("lawful_basis").ValueKind);
            Assert.Equal(JsonValueKind.Object, root.GetProperty("context").ValueKind);
            Assert.DoesNotContain("subject-", line, StringComparison.Ordinal);
        }

        Assert.Contains("exported 4 records", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuditCli_ExportBySubject_FindsThePersonsRecords()
    {
        await using var log = await WriteAsync();
        var stdout = new StringWriter();

        var code = AuditCli.Run(["audit", "export", "--subject", "subject-A"], _dir.Data, stdout, new StringWriter());

        Assert.Equal(AuditCli.ExitOk, code);
        Assert.Equal(3, stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Theory]
    [InlineData("export", "--from", "yesterday")]
    [InlineData("export", "--decision", "maybe")]
    [InlineData("export", "--colour", "blue")]
    [InlineData("verify", "--from", "2026-01-01")]
    [InlineData("frobnicate")]
    public void AuditCli_BadArguments_ExitsWithUsage(params string[] args)
    {
        var stderr = new StringWriter();
        Assert.Equal(AuditCli.ExitUsage, AuditCli.Run(args, _dir.Data, new StringWriter(), stderr));
        Assert.Contains("usage: audit", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void AuditCli_VerifyWithoutALog_ExitsWithFailure()
    {
        var stderr = new StringWriter();
        Assert.Equal(AuditCli.ExitFailure, AuditCli.Run(["verify"], _dir.Data, new StringWriter(), stderr));
        Assert.Contains("No audit log", stderr.ToString(), StringComparison.Ordinal);
    }
}
