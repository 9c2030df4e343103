using Gatekeeper.Audit.Tests.Support;

namespace Gatekeeper.Audit.Tests;

public sealed class RetentionTests : IDisposable
{
    private static readonly DateTimeOffset Old = new(2019, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Recent = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 0, 0, 0, TimeSpan.Zero);

    private readonly TempDirectory _dir = new();
    private readonly ListLogger _logger = new();

    public void Dispose() => _dir.Dispose();

    private async Task<(List<string> OldIds, List<string> RecentIds)> WriteAsync(int old, int recent)
    {
        var oldIds = new List<string>();
        var recentIds = new List<string>();
        await using var log = new AuditLog(_dir.Options(o => o.CheckpointEveryRecords = 4), _logger, TimeProvider.System);
        for (var i = 0; i < old; i++)
        {
            var record = Records.Sample(time: Old.AddMinutes(i));
            oldIds.Add(record.DecisionId);
            await log.AppendAsync(record);
        }

        for (var i = 0; i < recent; i++)
        {
            var record = Records.Sample(time: Recent.AddMinutes(i));
            recentIds.Add(record.DecisionId);
            await log.AppendAsync(record);
        }

        return (oldIds, recentIds);
    }

    [Fact]
    public async Task Purge_BeforeRetentionCut_DeletesOldRecordsAndTheRestStillVerifies()
    {
        var (_, recentIds) = await WriteAsync(old: 7, recent: 5);

        var result = AuditRetention.Purge(_dir.Options(), Now - AuditOptions.DefaultRetention, _logger, TimeProvider.System);

        Assert.Equal(7, result.DeletedRecords);
        Assert.Equal(7, result.CutSequence);
        var verified = AuditVerifier.Verify(_dir.Data);
        Assert.True(verified.IsValid, verified.ToString());
        Assert.Equal(7, verified.CutSequence);
        Assert.Equal(5, verified.RecordsChecked);
        Assert.Equal(recentIds, new AuditQuery(_dir.Options()).ReadAll(new AuditQueryFilter()).Select(e => e.DecisionId));
        Assert.Equal(1, _logger.Count("AuditPurged"));
    }

    [Fact]
    public async Task Purge_EverythingThenAppend_ChainContinuesFromTheSignedCut()
    {
        await WriteAsync(old: 6, recent: 0);
        AuditRetention.Purge(_dir.Options(), Now - AuditOptions.DefaultRetention, _logger, TimeProvider.System);

        await using (var log = new AuditLog(_dir.Options(), _logger, TimeProvider.System))
        {
            Assert.Equal(6, log.HeadSequence);
            await log.AppendAsync(Records.Sample());
        }

        var verified = AuditVerifier.Verify(_dir.Data);
        Assert.True(verified.IsValid, verified.ToString());
        Assert.Equal(7, verified.LastSequence);
    }

    [Fact]
    public async Task Purge_LateStampedRecord_KeepsEverythingFromItOn()
    {
        // The cut is always a prefix of the chain: an old-stamped record after a recent one is kept, not cut out.
        await using (var log = new AuditLog(_dir.Options(), _logger, TimeProvider.System))
        {
            await log.AppendAsync(Records.Sample(time: Old));
            await log.AppendAsync(Records.Sample(time: Recent));
            await log.AppendAsync(Records.Sample(time: Old.AddDays(1)));
        }

        var result = AuditRetention.Purge(_dir.Options(), Now - AuditOptions.DefaultRetention, _logger, TimeProvider.System);

        Assert.Equal(1, result.CutSequence);
        Assert.True(AuditVerifier.Verify(_dir.Data).IsValid);
    }

    [Fact]
    public async Task Purge_WhileTheWriterIsAppending_BothSucceedAndTheChainVerifies()
    {
        await WriteAsync(old: 50, recent: 0);
        await using (var log = new AuditLog(_dir.Options(), _logger, TimeProvider.System))
        {
            var appends = Task.Run(async () =>
            {
                for (var i = 0; i < 200; i++)
                {
                    await log.AppendAsync(Records.Sample(time: Recent));
                }
            });
            var purge = Task.Run(() => AuditRetention.Purge(_dir.Options(), Now - AuditOptions.DefaultRetention, _logger, TimeProvider.System));
            await Task.WhenAll(appends, purge);
            Assert.Equal(50, (await purge).DeletedRecords);
        }

        var verified = AuditVerifier.Verify(_dir.Data);
        Assert.True(verified.IsValid, verified.ToString());
        Assert.Equal(200, verified.RecordsChecked);
    }

    [Fact]
    public async Task AuditCli_PurgeDefault_UsesTheSixYearRetention()
    {
        await WriteAsync(old: 3, recent: 2);
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var code = AuditCli.Run(["audit", "purge"], _dir.Options(), stdout, stderr, new ManualTimeProvider(Now), _logger);

        Assert.True(code == AuditCli.ExitOk, stderr.ToString());
        Assert.Contains("purged 3 records", stdout.ToString(), StringComparison.Ordinal);
        Assert.Equal(AuditCli.ExitOk, AuditCli.Run(["audit", "verify"], _dir.Data, new StringWriter(), new StringWriter()));
    }

    [Fact]
    public async Task AuditCli_PurgeInsideRetentionWithoutForce_Refuses()
    {
        await WriteAsync(old: 3, recent: 2);
        var stderr = new StringWriter();

        var code = AuditCli.Run(["purge", "--before", "2026-11-10T00:00:00Z"], _dir.Options(), new StringWriter(), stderr, new ManualTimeProvider(Now), _logger);

        Assert.Equal(AuditCli.ExitUsage, code);
        Assert.Contains("retention period", stderr.ToString(), StringComparison.Ordinal);
        Assert.Equal(5, AuditVerifier.Verify(_dir.Data).RecordsChecked);

        code = AuditCli.Run(["purge", "--before", "2026-11-01T12:01:00Z", "--force"], _dir.Options(), new StringWriter(), stderr, new ManualTimeProvider(Now), _logger);
        Assert.Equal(AuditCli.ExitOk, code);
        Assert.Equal(1, AuditVerifier.Verify(_dir.Data).RecordsChecked);
    }

    [Fact]
    public async Task Verify_PurgeCutWithTheRecordHashSwapped_ReportsForgedCut()
    {
        await WriteAsync(old: 4, recent: 4);
        AuditRetention.Purge(_dir.Options(), Now - AuditOptions.DefaultRetention, _logger, TimeProvider.System);
        // Move the genuine, signed cut one record further to hide record 5: the signature no longer matches.
        Sqlite3Cli.Run(_dir.Options().DatabasePath, """
            UPDATE audit_checkpoints SET seq = 5, hash = (SELECT hash FROM audit_records WHERE seq = 5) WHERE kind = 'purge';
            DELETE FROM audit_records WHERE seq = 5;
            """);

        var result = AuditVerifier.Verify(_dir.Data);
        Assert.False(result.IsValid);
        Assert.Equal(AuditTamperKind.ForgedCut, result.Problem!.Kind);
        Assert.Equal(5, result.Problem.Sequence);
    }
}
